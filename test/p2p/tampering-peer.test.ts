import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import { test } from 'node:test'
import { verifyImages } from '../../src/ops/verify.js'
import { receive } from '../../src/p2p/receive.js'
import { Seeder } from '../../src/p2p/seeder.js'
import { Share } from '../../src/p2p/share.js'
import { decodeShareKey } from '../../src/p2p/share-key.js'
import { createSwarm } from '../../src/p2p/swarm.js'
import { BLOCK_SIZE } from '../../src/store/blob-store.js'
import { Store } from '../../src/store/store.js'
import { syntheticImage } from '../helpers/synthetic.js'
import { testDht } from '../helpers/swarm.js'
import { tmpdir } from '../helpers/tmp.js'

test('a peer serving damaged chunks is caught per chunk; the image comes whole from the honest peer', async (t) => {
  const bootstrap = await testDht(t)

  // the honest peer shares an image
  const layer = randomBytes(24 * BLOCK_SIZE)
  const img = syntheticImage(layer)
  const good = await Store.open(await tmpdir())
  const tx = await good.beginImport()
  await tx.put(Readable.from([img.layer]), 'layer')
  await tx.put(Readable.from([img.config]), 'config')
  const records = await tx.commit([{ names: ['docker.io/library/target:1'], manifest: img.manifest }])
  const share = await Share.create(good)
  await share.publish(records)
  const key = share.record.key
  const goodSeeder = new Seeder(good, createSwarm({ bootstrap }))
  await goodSeeder.seed(share.catalog)
  t.after(async () => {
    await goodSeeder.close()
    await goodSeeder.swarm.destroy()
    await good.close()
  })

  // a second peer holds the same image but lies: every chunk it sends has a
  // flipped byte (its replication is patched at the wire, past its own checks)
  const bad = await Store.open(await tmpdir())
  await receive(bad, key, { bootstrap, findTimeout: 20_000 })
  const badSeeder = new Seeder(bad, createSwarm({ bootstrap }))
  await badSeeder.seed(bad.blobs.cores.get({ key: decodeShareKey(key) }))
  const layerEntry = await bad.blobs.get(img.layerDigest)
  const tapped = bad.blobs.cores.get({ key: Buffer.from(layerEntry?.key ?? '', 'hex') })
  await tapped.ready()
  let forged = 0
  tapped.on('peer-add', (peer: { wireData: { send: (m: { block?: { value: Buffer } | null }) => void } }) => {
    const send = peer.wireData.send.bind(peer.wireData)
    peer.wireData.send = (msg) => {
      if (msg.block) {
        const value = Buffer.from(msg.block.value)
        value[100] = (value[100] ?? 0) ^ 0xff
        msg.block = { ...msg.block, value }
        forged++
      }
      send(msg)
    }
  })
  t.after(async () => {
    await tapped.close()
    await badSeeder.close()
    await badSeeder.swarm.destroy()
    await bad.close()
  })

  const receiver = await Store.open(await tmpdir())
  t.after(() => receiver.close())
  const result = await receive(receiver, key, { bootstrap, findTimeout: 20_000, stallTimeout: 30_000 })
  assert.equal(result.images[0]?.digest, img.manifestDigest)
  assert.ok(forged > 0, 'the lying peer was asked for chunks and sent forged ones')
  // no forged chunk was accepted: nothing of the layer is credited to the liar
  const fromLiar = result.bytesByPeer[badSeeder.swarm.keyPair.publicKey.toString('hex')] ?? 0
  assert.ok(fromLiar < BLOCK_SIZE, `${fromLiar} bytes accepted from the lying peer`)
  const reports = await verifyImages(receiver)
  assert.deepEqual(reports.map((r) => [r.ok, r.problems]), [[true, []]])
  const parts: Buffer[] = []
  for await (const p of await receiver.blobs.open(img.layerDigest)) parts.push(p as Buffer)
  assert.ok(Buffer.concat(parts).equals(layer))
})
