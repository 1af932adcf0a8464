import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import { test } from 'node:test'
import { receive } from '../../src/p2p/receive.js'
import { Seeder } from '../../src/p2p/seeder.js'
import { Share } from '../../src/p2p/share.js'
import { createSwarm } from '../../src/p2p/swarm.js'
import { BLOCK_SIZE } from '../../src/store/blob-store.js'
import { Store } from '../../src/store/store.js'
import { syntheticImage } from '../helpers/synthetic.js'
import { testDht } from '../helpers/swarm.js'
import { tmpdir } from '../helpers/tmp.js'

test('a receiver re-seeds: the next receiver fetches from both, and from it alone once the sharer is gone', async (t) => {
  const bootstrap = await testDht(t)

  const sharer = await Store.open(await tmpdir())
  const img = syntheticImage(randomBytes(64 * BLOCK_SIZE))
  const tx = await sharer.beginImport()
  await tx.put(Readable.from([img.layer]), 'layer')
  await tx.put(Readable.from([img.config]), 'config')
  const records = await tx.commit([{ names: ['docker.io/library/big:1'], manifest: img.manifest }])
  const share = await Share.create(sharer)
  await share.publish(records)
  const sharerSwarm = createSwarm({ bootstrap })
  const sharerSeeder = new Seeder(sharer, sharerSwarm)
  await sharerSeeder.seed(share.catalog)
  const stopSharer = async () => {
    await sharerSeeder.close()
    await sharerSwarm.destroy()
    await sharer.close()
  }

  // the first receiver keeps seeding what it received
  const first = await Store.open(await tmpdir())
  const firstSeeder = new Seeder(first, createSwarm({ bootstrap }))
  t.after(async () => {
    await firstSeeder.close()
    await firstSeeder.swarm.destroy()
    await first.close()
  })
  await receive(first, share.record.key, { seeder: firstSeeder, findTimeout: 20_000 })
  assert.deepEqual(
    firstSeeder.status().map((s) => [s.key, s.owned, s.blobs]),
    [[share.record.key, false, 3]]
  )

  const second = await Store.open(await tmpdir())
  t.after(() => second.close())
  const both = await receive(second, share.record.key, { bootstrap, findTimeout: 20_000 })
  assert.equal(both.images[0]?.digest, img.manifestDigest)
  const served = Object.values(both.bytesByPeer)
  assert.equal(served.length, 2, `chunks came from ${served.length} peer(s)`)
  assert.ok(served.every((n) => n > 0))
  assert.ok(
    Math.abs(served.reduce((a, b) => a + b, 0) - both.bytesReceived) === 0,
    'per-peer bytes add up to the total'
  )

  await stopSharer()
  const third = await Store.open(await tmpdir())
  t.after(() => third.close())
  const alone = await receive(third, share.record.key, { bootstrap, findTimeout: 20_000 })
  assert.equal(alone.images[0]?.digest, img.manifestDigest)
  assert.equal(alone.peers.length, 1)
  assert.ok(alone.bytesReceived >= img.layer.length)
})
