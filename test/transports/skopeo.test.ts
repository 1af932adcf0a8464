import assert from 'node:assert/strict'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import type { Manifest } from '../../src/image/types.js'
import { openDestination } from '../../src/transports/location.js'
import { toWrite } from '../helpers/image-builder.js'
import { MemoryStore } from '../helpers/memory-sink.js'
import { skopeoInspect } from '../helpers/skopeo.js'
import { tmpdir } from '../helpers/tmp.js'
import { fixture } from './fixtures.js'

interface Inspect {
  Digest: string
  Layers: string[]
}
interface Config {
  rootfs: { diff_ids: string[] }
}

// skopeo (Debian's 1.9) is the independent reader: if it is missing these
// tests fail (skopeoInspect throws) rather than skip.
describe('skopeo reads what the destinations write', async () => {
  const fx = await fixture('gzip')
  const store = new MemoryStore()
  const images = [toWrite(store, fx.app), toWrite(store, fx.other)]
  const dir = await tmpdir()
  const docker = join(dir, 'out.docker.tar')
  const ociTar = join(dir, 'out.oci.tar')
  const ociDir = join(dir, 'layout')
  await (await openDestination(`docker-archive:${docker}`)).write(images, store)
  await (await openDestination(`oci-archive:${ociTar}`)).write(images, store)
  await (await openDestination(`oci:${ociDir}`)).write(images, store)
  const diffIds = fx.app.layers.map((l) => l.diffId)

  it('docker-archive: same config digest and diff_ids, both tags found', async () => {
    for (const name of ['example.com/app:1', 'app:latest']) {
      const raw = (await skopeoInspect(`docker-archive:${docker}:${name}`, ['--raw'])) as Manifest
      assert.equal(raw.config.digest, fx.app.configDigest)
      assert.equal(raw.layers.length, fx.app.layers.length)
      const config = (await skopeoInspect(`docker-archive:${docker}:${name}`, ['--config'])) as Config
      assert.deepEqual(config.rootfs.diff_ids, diffIds)
    }
  })

  for (const [label, ref] of [['oci-archive', () => `oci-archive:${ociTar}:1`], ['oci', () => `oci:${ociDir}:1`]] as const) {
    it(`${label}: same manifest digest, layers and config`, async () => {
      const info = (await skopeoInspect(ref())) as Inspect
      assert.equal(info.Digest, fx.app.manifestDigest)
      assert.deepEqual(info.Layers, fx.app.layers.map((l) => l.digest))
      const raw = (await skopeoInspect(ref(), ['--raw'])) as Manifest
      assert.deepEqual(raw, fx.app.manifest)
      const config = (await skopeoInspect(ref(), ['--config'])) as Config
      assert.deepEqual(config.rootfs.diff_ids, diffIds)
    })
  }

  it('oci: the other tag resolves to the same image', async () => {
    const info = (await skopeoInspect(`oci:${ociDir}:latest`)) as Inspect
    assert.equal(info.Digest, fx.app.manifestDigest)
  })
})
