import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { openDestination } from '../../src/transports/location.js'
import { startDockerd } from '../helpers/dockerd.js'
import { toWrite } from '../helpers/image-builder.js'
import { MemoryStore } from '../helpers/memory-sink.js'
import { tmpdir } from '../helpers/tmp.js'
import { fixture } from './fixtures.js'

interface Inspected {
  Id: string
  RepoTags: string[]
  RootFS: { Layers: string[] }
}

// Debian's docker 20.10 must load our hybrid docker-archive. It handles plain
// and gzip layers; zstd layers are not tested because 20.10 cannot load them.
describe('docker 20.10 loads our docker-archive', async () => {
  const dockerd = await startDockerd()
  after(() => dockerd.stop())

  for (const compression of ['none', 'gzip'] as const) {
    it(`with ${compression} layers: same image id, diff_ids and tags`, async () => {
      const fx = await fixture(compression)
      const store = new MemoryStore()
      const path = join(await tmpdir(), 'load.tar')
      const app = toWrite(store, fx.app, [`docker.io/hs-test/app-${compression}:1`, 'example.com/app:1'])
      await (await openDestination(`docker-archive:${path}`)).write([app, toWrite(store, fx.other)], store)

      const load = await dockerd.docker(['load', '-i', path])
      assert.equal(load.code, 0, load.stderr)
      assert.match(load.stdout, new RegExp(`Loaded image: hs-test/app-${compression}:1`))
      const res = await dockerd.docker(['image', 'inspect', `hs-test/app-${compression}:1`])
      assert.equal(res.code, 0, res.stderr)
      const [info] = JSON.parse(res.stdout) as Inspected[]
      assert.equal(info?.Id, fx.app.configDigest)
      assert.deepEqual(info?.RootFS.Layers, fx.app.layers.map((l) => l.diffId))
      // Both runs load the same config (same diff_ids), so one image id collects the tags of both.
      for (const tag of ['example.com/app:1', `hs-test/app-${compression}:1`]) assert.ok(info?.RepoTags.includes(tag), tag)
      const other = await dockerd.docker(['image', 'inspect', fx.other.configDigest])
      assert.equal(other.code, 0, other.stderr)
    })
  }
})
