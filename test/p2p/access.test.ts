import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { type TestContext, test } from 'node:test'
import { ErrorCodes } from '../../src/errors.js'
import { rotateShare, shareImages } from '../../src/ops/share.js'
import { unshareImages } from '../../src/ops/unshare.js'
import { MAX_ALLOWED, decodeEntry, foldAudience } from '../../src/p2p/catalog.js'
import { type Identity, IDENTITY_FILE, decodePeerId, encodePeerId, loadIdentity } from '../../src/p2p/identity.js'
import { receive } from '../../src/p2p/receive.js'
import { Seeder } from '../../src/p2p/seeder.js'
import { decodeShareKey } from '../../src/p2p/share-key.js'
import { createSwarm } from '../../src/p2p/swarm.js'
import { BLOCK_SIZE } from '../../src/store/blob-store.js'
import { Store } from '../../src/store/store.js'
import { hypership } from '../helpers/cli.js'
import { syntheticImage } from '../helpers/synthetic.js'
import { testDht } from '../helpers/swarm.js'
import { tmpdir } from '../helpers/tmp.js'

const NAME = 'docker.io/library/secret:1'

/** A store holding one 3 MiB image, seeding on its own swarm with its own identity until the test ends. */
async function sharer(t: TestContext, bootstrap: string[]) {
  const store = await Store.open(await tmpdir())
  const img = syntheticImage(randomBytes(3 * BLOCK_SIZE))
  const tx = await store.beginImport()
  await tx.put(Readable.from([img.layer]), 'layer')
  await tx.put(Readable.from([img.config]), 'config')
  await tx.commit([{ names: [NAME], manifest: img.manifest }])
  const seeder = new Seeder(store, createSwarm({ bootstrap, keyPair: await loadIdentity(store.layout.root) }))
  t.after(async () => {
    await seeder.close()
    await seeder.swarm.destroy()
    await store.close()
  })
  return { store, seeder, img }
}

/** A fresh store and its identity; closed after the test. */
async function peer(t: TestContext) {
  const store = await Store.open(await tmpdir())
  t.after(() => store.close())
  const identity = await loadIdentity(store.layout.root)
  return { store, identity, id: encodePeerId(identity.publicKey) }
}

/** Asserts that receiving `key` into `store` fails with NO_PEERS and leaves nothing behind: no blob, no catalog entry. */
async function refused(store: Store, key: string, opts: { bootstrap: string[]; keyPair?: Identity }, layerDigest: string, connected = true) {
  await assert.rejects(receive(store, key, { ...opts, findTimeout: 5000 }), (err: Error & { code?: string }) => {
    assert.equal(err.code, ErrorCodes.NO_PEERS, err.message)
    // the receiver did reach a peer: what stopped it is the gate, not discovery
    if (connected) assert.match(err.message, /no peer served .* ask the sharer to allow/)
    return true
  })
  assert.equal(await store.blobs.get(layerDigest), undefined, 'no blob was stored')
  const catalog = store.blobs.cores.get({ key: decodeShareKey(key) })
  await catalog.ready()
  assert.equal(catalog.length, 0, 'not even the catalog length arrived')
  await catalog.close()
}

test('identity: created once with mode 0600, stable across opens, printed by `hypership id`', async () => {
  const dir = await tmpdir()
  const first = await hypership(['id', '--store', dir])
  assert.equal(first.code, 0, first.stderr)
  const id = first.stdout.trim()
  assert.match(id, /^[a-z0-9]{52}$/)
  assert.equal((await stat(join(dir, IDENTITY_FILE))).mode & 0o777, 0o600)
  const again = await hypership(['id', '--store', dir, '--json'])
  assert.deepEqual(JSON.parse(again.stdout), { id })
  assert.equal(encodePeerId((await loadIdentity(dir)).publicKey), id)
  const other = await hypership(['id', '--store', await tmpdir()])
  assert.notEqual(other.stdout.trim(), id)
})

test('share --allow: a listed peer gets the image; an unlisted one gets nothing, from the sharer or from a listed peer that re-seeds it', async (t) => {
  const bootstrap = await testDht(t)
  const a = await sharer(t, bootstrap)
  const listed = await peer(t)
  const alsoListed = await peer(t)
  const stranger = await peer(t)

  const shared = await shareImages(a.store, a.seeder, [NAME], { allow: [`${listed.id},${alsoListed.id}`] })
  assert.deepEqual(shared.allow, [encodePeerId(a.seeder.swarm.keyPair.publicKey), listed.id, alsoListed.id])
  assert.deepEqual(a.seeder.status()[0]?.allow, shared.allow)

  await refused(stranger.store, shared.key, { bootstrap, keyPair: stranger.identity }, a.img.layerDigest)

  // the listed peer receives, and keeps seeding it on its own swarm
  const seeder = new Seeder(listed.store, createSwarm({ bootstrap, keyPair: listed.identity }))
  t.after(async () => {
    await seeder.close()
    await seeder.swarm.destroy()
  })
  const got = await receive(listed.store, shared.key, { seeder, findTimeout: 20_000 })
  assert.equal(got.images[0]?.digest, a.img.manifestDigest)
  assert.deepEqual(got.images[0]?.tags, [NAME])
  assert.deepEqual(seeder.status()[0]?.allow, shared.allow, 'the re-seeder learnt the allow list from the catalog')

  // the sharer goes away: the listed re-seeder alone refuses the stranger too
  await a.seeder.unseed(shared.key)
  await refused(stranger.store, shared.key, { bootstrap, keyPair: stranger.identity }, a.img.layerDigest)
  // …and serves another listed peer
  const again = await receive(alsoListed.store, shared.key, { bootstrap, keyPair: alsoListed.identity, findTimeout: 20_000 })
  assert.equal(again.images[0]?.digest, a.img.manifestDigest)
  assert.deepEqual(Object.keys(again.bytesByPeer), [listed.identity.publicKey.toString('hex')])
})

test('share --add KEY --allow: replacing the list shuts out who is no longer on it', async (t) => {
  const bootstrap = await testDht(t)
  const a = await sharer(t, bootstrap)
  const first = await peer(t)
  const second = await peer(t)
  const shared = await shareImages(a.store, a.seeder, [NAME], { allow: [first.id] })
  const ok = await receive(first.store, shared.key, { bootstrap, keyPair: first.identity, findTimeout: 20_000 })
  assert.equal(ok.images.length, 1)

  const edited = await shareImages(a.store, a.seeder, [], { add: shared.key, allow: [second.id] })
  assert.equal(edited.key, shared.key)
  assert.deepEqual(edited.allow?.slice(1), [second.id])

  const firstFresh = await Store.open(await tmpdir())
  t.after(() => firstFresh.close())
  await refused(firstFresh, shared.key, { bootstrap, keyPair: first.identity }, a.img.layerDigest)
  const got = await receive(second.store, shared.key, { bootstrap, keyPair: second.identity, findTimeout: 20_000 })
  assert.equal(got.images[0]?.digest, a.img.manifestDigest)

  // `*` opens it to anyone with the key
  const open = await shareImages(a.store, a.seeder, [], { add: shared.key, allow: ['*'] })
  assert.equal(open.allow, null)
  const anyone = await receive(firstFresh, shared.key, { bootstrap, keyPair: first.identity, findTimeout: 20_000 })
  assert.equal(anyone.images[0]?.digest, a.img.manifestDigest)
})

test('rotate and revoke: the old key is no longer served, the new one is (with the same allow list), until it is unshared', async (t) => {
  const bootstrap = await testDht(t)
  const a = await sharer(t, bootstrap)
  const listed = await peer(t)
  const shared = await shareImages(a.store, a.seeder, [NAME], { allow: [listed.id] })

  const rotated = await rotateShare(a.store, a.seeder, shared.key)
  assert.notEqual(rotated.key, shared.key)
  assert.equal(rotated.replaced, shared.key)
  assert.deepEqual(rotated.allow, shared.allow)
  assert.deepEqual(rotated.images.map((i) => i.digest), [a.img.manifestDigest])
  assert.deepEqual(a.seeder.status().map((s) => s.key), [rotated.key])

  // the old key: the sharer still holds its catalog, but serves it to no one
  await refused(listed.store, shared.key, { bootstrap, keyPair: listed.identity }, a.img.layerDigest, false)
  const got = await receive(listed.store, rotated.key, { bootstrap, keyPair: listed.identity, findTimeout: 20_000 })
  assert.equal(got.images[0]?.digest, a.img.manifestDigest)
  assert.deepEqual(got.images[0]?.tags, [NAME])

  const stopped = await unshareImages(a.store, a.seeder, rotated.key, [])
  assert.equal(stopped.stopped, true)
  const late = await Store.open(await tmpdir())
  t.after(() => late.close())
  await refused(late, rotated.key, { bootstrap, keyPair: listed.identity }, a.img.layerDigest, false)
})

test('taking a connected peer off the list closes its open channels at once', async (t) => {
  const bootstrap = await testDht(t)
  const a = await sharer(t, bootstrap)
  const b = await peer(t)
  const shared = await shareImages(a.store, a.seeder, [NAME], { allow: [b.id] })
  // b receives and stays connected, re-seeding on its own swarm
  const seeder = new Seeder(b.store, createSwarm({ bootstrap, keyPair: b.identity }))
  t.after(async () => {
    await seeder.close()
    await seeder.swarm.destroy()
  })
  await receive(b.store, shared.key, { seeder, findTimeout: 20_000 })
  const catalog = a.store.blobs.cores.get({ key: decodeShareKey(shared.key) })
  await catalog.ready()
  t.after(() => catalog.close())
  const bHex = b.identity.publicKey.toString('hex')
  const peersOf = () => catalog.peers.map((p) => p.remotePublicKey.toString('hex'))
  assert.deepEqual(peersOf(), [bHex], 'b replicates the catalog while on the list')

  const other = await peer(t)
  await shareImages(a.store, a.seeder, [], { add: shared.key, allow: [other.id] })
  const deadline = Date.now() + 2000
  while (peersOf().includes(bHex) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
  assert.deepEqual(peersOf(), [], 'the channel to b was closed')
  assert.equal(a.seeder.swarm.connections.size, 1, 'the connection itself stays (other shares may use it)')

  // put back on the list: the catalog is offered to b again on the same connection
  await shareImages(a.store, a.seeder, [], { add: shared.key, allow: [b.id, other.id] })
  const back = Date.now() + 5000
  while (!peersOf().includes(bHex) && Date.now() < back) await new Promise((r) => setTimeout(r, 50))
  assert.deepEqual(peersOf(), [bHex], 'b replicates the catalog again')
  assert.equal(a.seeder.swarm.connections.size, 1, 'over the connection it had')
})

test('a receive that ended early can be run again over the connection it used', async (t) => {
  const bootstrap = await testDht(t)
  const a = await sharer(t, bootstrap)
  const b = await peer(t)
  const shared = await shareImages(a.store, a.seeder, [NAME], {})
  // b's long-lived swarm (as in its daemon): the first receive is cancelled
  // once the catalog is in, which closes its channels; the connection stays
  const seeder = new Seeder(b.store, createSwarm({ bootstrap, keyPair: b.identity }))
  t.after(async () => {
    await seeder.close()
    await seeder.swarm.destroy()
  })
  const stop = new AbortController()
  await assert.rejects(
    receive(b.store, shared.key, { seeder, findTimeout: 20_000, signal: stop.signal, onEvent: (e) => e.type === 'catalog' && stop.abort() }),
    { code: ErrorCodes.ABORTED }
  )
  assert.equal(seeder.swarm.connections.size, 1)
  const again = await receive(b.store, shared.key, { seeder, findTimeout: 10_000, stallTimeout: 10_000 })
  assert.equal(again.images[0]?.config, a.img.configDigest)
  assert.equal(seeder.swarm.connections.size, 1, 'over the same connection')
})

test('identity: a damaged identity.json is refused with a clear error, not replaced', async () => {
  const dir = await tmpdir()
  await writeFile(join(dir, IDENTITY_FILE), '{"v":1,"publicKey":"00","secretKey":"11"}')
  await assert.rejects(loadIdentity(dir), (err: Error & { code?: string }) => err.code === ErrorCodes.STORE_CORRUPT && /identity/.test(err.message))
  assert.equal(await readFile(join(dir, IDENTITY_FILE), 'utf8'), '{"v":1,"publicKey":"00","secretKey":"11"}')
  assert.throws(() => decodePeerId('nope'), (err: Error & { code?: string }) => err.code === ErrorCodes.BAD_KEY)
})

test('catalog: allow entries from a hostile peer are checked', () => {
  const entry = (o: unknown) => Buffer.from(JSON.stringify(o))
  const hex = 'ab'.repeat(32)
  assert.deepEqual(decodeEntry(entry({ v: 1, op: 'allow', peers: [hex] }), 0), { v: 1, op: 'allow', peers: [hex] })
  assert.deepEqual(decodeEntry(entry({ v: 1, op: 'allow', peers: null }), 0), { v: 1, op: 'allow', peers: null })
  for (const peers of [['zz'], [hex.toUpperCase()], 'x', [1], Array(MAX_ALLOWED + 1).fill(hex)]) {
    assert.throws(() => decodeEntry(entry({ v: 1, op: 'allow', peers }), 3), (err: Error & { code?: string }) => err.code === ErrorCodes.PEER_INVALID)
  }
  const list = foldAudience([
    { v: 1, op: 'allow', peers: [hex] },
    { v: 1, op: 'allow', peers: null },
    { v: 1, op: 'allow', peers: ['cd'.repeat(32)] }
  ])
  assert.deepEqual(list && [...list], ['cd'.repeat(32)], 'the last allow entry wins')
})
