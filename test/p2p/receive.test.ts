import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import { test } from 'node:test'
import { sha256 } from '../../src/image/digest.js'
import { receive } from '../../src/p2p/receive.js'
import { Seeder } from '../../src/p2p/seeder.js'
import { Share } from '../../src/p2p/share.js'
import { createSwarm } from '../../src/p2p/swarm.js'
import { BLOCK_SIZE } from '../../src/store/blob-store.js'
import { Store } from '../../src/store/store.js'
import { seedFor, testDht } from '../helpers/swarm.js'
import { tmpdir } from '../helpers/tmp.js'
import { syntheticImage } from '../helpers/synthetic.js'

async function storeWith(layer: Buffer, names: string[]) {
  const store = await Store.open(await tmpdir())
  const img = syntheticImage(layer)
  const tx = await store.beginImport()
  await tx.put(Readable.from([img.layer]), 'layer')
  await tx.put(Readable.from([img.config]), 'config')
  const records = await tx.commit([{ names, manifest: img.manifest }])
  return { store, img, records }
}

test('receive fetches a shared image over a local DHT and verifies it', async (t) => {
  const bootstrap = await testDht(t)

  const a = await storeWith(randomBytes(3 * BLOCK_SIZE + 99), ['docker.io/library/app:1'])
  const share = await Share.create(a.store)
  await share.publish(a.records)
  await seedFor(t, a.store, share.catalog, bootstrap)

  const b = await Store.open(await tmpdir())
  t.after(() => b.close())
  const events: string[] = []
  const result = await receive(b, share.record.key, { bootstrap, findTimeout: 20_000, onEvent: (e) => events.push(e.type) })
  assert.equal(result.images.length, 1)
  assert.equal(result.images[0]?.digest, a.img.manifestDigest)
  assert.deepEqual(result.images[0]?.tags, ['docker.io/library/app:1'])
  assert.equal(result.blobsFetched, 3)
  assert.ok(result.bytesReceived >= a.img.layer.length, `received ${result.bytesReceived}`)
  assert.ok(events.includes('verified'))

  const parts: Buffer[] = []
  for await (const p of await b.blobs.open(a.img.layerDigest)) parts.push(p as Buffer)
  assert.deepEqual(Buffer.concat(parts), a.img.layer)

  // a second receive of the same share fetches nothing
  const again = await receive(b, share.record.key, { bootstrap, findTimeout: 20_000 })
  assert.equal(again.blobsFetched, 0)
  assert.equal(again.bytesReceived, 0)
  assert.equal(again.blobsSkipped, 3)
})

test('receive says nobody serves a key after the configured wait', async (t) => {
  const bootstrap = await testDht(t)
  const b = await Store.open(await tmpdir())
  t.after(() => b.close())
  const key = 'yryyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy'
  const started = Date.now()
  await assert.rejects(receive(b, key, { bootstrap, findTimeout: 2000 }), { code: 'HS_ERR_NO_PEERS' })
  assert.ok(Date.now() - started < 15_000)
  assert.deepEqual(await b.images(), [])
})

test('a malformed share key is refused', async () => {
  const b = await Store.open(await tmpdir())
  try {
    await assert.rejects(receive(b, 'not-a-key', { bootstrap: ['127.0.0.1:9'] }), { code: 'HS_ERR_BAD_KEY' })
  } finally {
    await b.close()
  }
})

test('a sharer whose catalog lies about a blob gets nothing into the store', async (t) => {
  const bootstrap = await testDht(t)
  const a = await storeWith(randomBytes(BLOCK_SIZE + 5), ['docker.io/library/honest:1'])
  const layer = await a.store.blobs.get(a.img.layerDigest)
  assert.ok(layer)
  // publish the real core under the digest of other bytes of the same size
  const forged = randomBytes(layer.size)
  const lie = syntheticImage(forged)
  const tx = await a.store.beginImport()
  await tx.put(Readable.from([lie.config]), 'config')
  await tx.put(Readable.from([forged]), 'forged layer')
  await tx.commit([{ names: ['docker.io/library/liar:1'], manifest: lie.manifest }])
  const share = await Share.create(a.store)
  const blobs = []
  for (const d of [lie.manifestDigest, lie.configDigest]) blobs.push(await a.store.blobs.get(d))
  blobs.push({ ...layer, digest: lie.layerDigest })
  await share.catalog.append(Buffer.from(JSON.stringify({ v: 1, op: 'put', manifest: lie.manifestDigest, names: ['docker.io/library/liar:1'], blobs })))
  await seedFor(t, a.store, share.catalog, bootstrap)

  const b = await Store.open(await tmpdir())
  t.after(() => b.close())
  await assert.rejects(receive(b, share.record.key, { bootstrap, findTimeout: 20_000 }), { code: 'HS_ERR_PEER_INVALID' })
  assert.deepEqual(await b.images(), [])
  assert.equal(await b.blobs.get(lie.layerDigest), undefined)
  assert.equal(await b.blobs.get(a.img.layerDigest), undefined)
})

test('an image whose config does not match its layers is refused on receive', async (t) => {
  const bootstrap = await testDht(t)
  const a = await Store.open(await tmpdir())
  const img = syntheticImage(randomBytes(1000))
  // a config that names another diff_id; the store itself does not judge images
  const config = Buffer.from(JSON.stringify({ rootfs: { type: 'layers', diff_ids: [`sha256:${'0'.repeat(64)}`] } }))
  const manifest = Buffer.from(
    img.manifest.toString().replace(img.configDigest, sha256(config)).replace(`"size":${img.config.length}`, `"size":${config.length}`)
  )
  const tx = await a.beginImport()
  await tx.put(Readable.from([img.layer]), 'layer')
  await tx.put(Readable.from([config]), 'config')
  const records = await tx.commit([{ names: ['docker.io/library/bad:1'], manifest }])
  const share = await Share.create(a)
  await share.publish(records)
  await seedFor(t, a, share.catalog, bootstrap)

  const b = await Store.open(await tmpdir())
  t.after(() => b.close())
  await assert.rejects(receive(b, share.record.key, { bootstrap, findTimeout: 20_000 }), { code: 'HS_ERR_DIFF_ID_MISMATCH' })
  assert.deepEqual(await b.images(), [])
  assert.deepEqual(await b.blobs.list(), [])
})

test('a receiver that held a share before sees what the sharer added after a restart, and refetches what it removed', async (t) => {
  const bootstrap = await testDht(t)
  const a = await storeWith(randomBytes(2 * BLOCK_SIZE), ['docker.io/library/first:1'])
  t.after(() => a.store.close())
  const share = await Share.create(a.store)
  await share.publish(a.records)
  const key = share.record.key

  let seeder = new Seeder(a.store, createSwarm({ bootstrap }))
  await seeder.seed(share.catalog)
  const b = await Store.open(await tmpdir())
  t.after(() => b.close())
  assert.equal((await receive(b, key, { bootstrap, findTimeout: 20_000 })).images.length, 1)
  await seeder.close()
  await seeder.swarm.destroy()

  // the sharer comes back with one more image in the same share
  const more = syntheticImage(randomBytes(BLOCK_SIZE + 3))
  const tx = await a.store.beginImport()
  await tx.put(Readable.from([more.layer]), 'layer')
  await tx.put(Readable.from([more.config]), 'config')
  const added = await tx.commit([{ names: ['docker.io/library/second:1'], manifest: more.manifest }])
  const again = await Share.open(a.store, key)
  await again.publish(added)
  seeder = new Seeder(a.store, createSwarm({ bootstrap }))
  await seeder.seed(again.catalog)
  t.after(async () => {
    await seeder.close()
    await seeder.swarm.destroy()
  })

  await b.remove('first:1')
  const started = Date.now()
  const result = await receive(b, key, { bootstrap, findTimeout: 10_000, stallTimeout: 20_000 })
  assert.deepEqual(result.images.map((i) => i.tags).sort(), [['docker.io/library/first:1'], ['docker.io/library/second:1']])
  assert.ok(Date.now() - started < 15_000, `took ${Date.now() - started} ms`)
})
