import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import { test } from 'node:test'
import { ErrorCodes } from '../../src/errors.js'
import { shareImages } from '../../src/ops/share.js'
import { receive } from '../../src/p2p/receive.js'
import { Seeder } from '../../src/p2p/seeder.js'
import { createSwarm } from '../../src/p2p/swarm.js'
import { BLOCK_SIZE } from '../../src/store/blob-store.js'
import { Store } from '../../src/store/store.js'
import { syntheticImage } from '../helpers/synthetic.js'
import { testDht } from '../helpers/swarm.js'
import { tmpdir } from '../helpers/tmp.js'

test('a sharer that vanishes mid-blob: the receive ends after the stall wait with HS_ERR_STALLED, keeps what arrived, commits nothing, and a rerun fetches only the rest', async (t) => {
  const bootstrap = await testDht(t)
  const a = await Store.open(await tmpdir())
  t.after(() => a.close())
  const img = syntheticImage(randomBytes(64 * BLOCK_SIZE))
  const tx = await a.beginImport()
  await tx.put(Readable.from([img.layer]), 'layer')
  await tx.put(Readable.from([img.config]), 'config')
  await tx.commit([{ names: ['docker.io/library/big:1'], manifest: img.manifest }])
  const first = new Seeder(a, createSwarm({ bootstrap }))
  const shared = await shareImages(a, first, ['big:1'], {})

  const b = await Store.open(await tmpdir())
  t.after(() => b.close())
  let gone: Promise<void> | undefined
  const started = Date.now()
  await assert.rejects(
    receive(b, shared.key, {
      bootstrap,
      findTimeout: 10_000,
      stallTimeout: 2000,
      onEvent: (e) => {
        // the sharer goes away at the first chunk of the layer
        if (e.type === 'chunk' && e.digest === img.layerDigest && !gone) gone = first.close().then(() => first.swarm.destroy())
      }
    }),
    (err: Error & { code?: string }) => {
      assert.equal(err.code, ErrorCodes.STALLED, err.message)
      assert.match(err.message, new RegExp(`fetching ${img.layerDigest} stalled: no chunk for 2 s, and no peer holding it is connected; what arrived is kept`))
      return true
    }
  )
  assert.ok(Date.now() - started < 15_000, 'the stall wait is bounded')
  await gone
  assert.deepEqual(await b.images(), [], 'nothing committed')
  assert.equal(await b.blobs.get(img.layerDigest), undefined, 'the layer is not indexed')

  // the sharer comes back: the rerun fetches only what the first run did not keep
  const second = new Seeder(a, createSwarm({ bootstrap }))
  t.after(async () => {
    await second.close()
    await second.swarm.destroy()
  })
  await shareImages(a, second, ['big:1'], { add: shared.key })
  const again = await receive(b, shared.key, { bootstrap, findTimeout: 10_000 })
  assert.equal(again.images[0]?.config, img.configDigest)
  assert.ok(again.bytesReceived < img.layer.length, `the rerun fetched ${again.bytesReceived} of ${img.layer.length} layer bytes`)
})
