import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { hasCode } from '../../src/errors.js'
import { loadImages, saveImages, storedImages } from '../../src/ops/images.js'
import { Store } from '../../src/store/store.js'
import { openDestination } from '../../src/transports/location.js'
import { legacyDockerEntries, toWrite } from '../helpers/image-builder.js'
import { MemoryStore } from '../helpers/memory-sink.js'
import { startPodman, type Podman } from '../helpers/podman.js'
import { tmpdir } from '../helpers/tmp.js'
import { fixture, writeTar } from './fixtures.js'

interface PodmanImage {
  Id: string
  RepoTags: string[]
  RootFS: { Layers: string[] }
}

async function inspect(podman: Podman, name: string): Promise<PodmanImage> {
  const res = await podman.podman(['image', 'inspect', name])
  assert.equal(res.code, 0, res.stderr)
  const [info] = JSON.parse(res.stdout) as PodmanImage[]
  assert.ok(info)
  return info
}

async function freshStore(): Promise<Store> {
  const store = await Store.open(await tmpdir())
  after(() => store.close())
  return store
}

// The same transport against podman 4.3's Docker-compatible API (DOCKER_HOST
// pointing at `podman system service`). Differences from dockerd are
// asserted here: see README "Podman".
describe('docker-daemon: against podman system service', async () => {
  const podman = await startPodman()
  after(() => podman.stop())
  const fx = await fixture('gzip')
  const memory = new MemoryStore()
  const archive = join(await tmpdir(), 'app.tar')
  await (await openDestination(`docker-archive:${archive}`)).write([toWrite(memory, fx.app, ['docker.io/hs-test/app:1'])], memory)
  const store = await freshStore()
  await loadImages(store, archive)
  const engine = { dockerHost: podman.host }

  it('store → podman → store keeps the image ID and the diff_ids; names stay docker.io/…', async () => {
    await saveImages(store, ['hs-test/app:1'], 'docker-daemon:hs-test/pm:1', engine)
    const info = await inspect(podman, 'docker.io/hs-test/pm:1')
    // podman's IDs are the config digest's hex
    assert.equal(`sha256:${info.Id}`, fx.app.configDigest)
    assert.deepEqual(info.RootFS.Layers, fx.app.layers.map((l) => l.diffId))
    // we write full names, so podman does not make them localhost/hs-test/pm:1
    assert.deepEqual(info.RepoTags, ['docker.io/hs-test/pm:1'])

    const back = await freshStore()
    const [rec] = await loadImages(back, 'docker-daemon:hs-test/pm:1', engine)
    assert.ok(rec)
    assert.equal(rec.config, fx.app.configDigest)
    assert.deepEqual(rec.tags, ['docker.io/hs-test/pm:1'])
    // like dockerd, podman's /images/get sends layers uncompressed: the manifest
    // differs from the original (gzip) one, the layer digests are the diff_ids
    const { manifest } = await back.manifest(rec)
    assert.deepEqual(manifest.layers.map((l) => l.digest), fx.app.layers.map((l) => l.diffId))
    assert.notEqual(rec.digest, fx.app.manifestDigest)
  })

  it('an image podman calls localhost/NAME is read under either name', async () => {
    // podman load prefixes an unqualified RepoTag with localhost/
    const legacy = await writeTar(await tmpdir(), 'legacy.tar', await legacyDockerEntries([{ image: fx.other, repoTags: ['hs-test/short:1'] }]))
    const res = await podman.podman(['load', '-i', legacy])
    assert.equal(res.code, 0, res.stderr)
    assert.deepEqual((await inspect(podman, 'localhost/hs-test/short:1')).RepoTags, ['localhost/hs-test/short:1'])

    const back = await freshStore()
    const [full] = await loadImages(back, 'docker-daemon:localhost/hs-test/short:1', engine)
    assert.equal(full?.config, fx.other.configDigest)
    assert.deepEqual(full?.tags, ['localhost/hs-test/short:1'])
    // podman resolves the short name to its localhost/ image; the store keeps the name asked for
    const [short] = await storedImages(await freshStore(), 'hs-test/short:1', engine)
    assert.equal(short?.config, fx.other.configDigest)
    assert.deepEqual(short?.tags, ['docker.io/hs-test/short:1'])
  })

  it('a missing image is HS_ERR_IMAGE_NOT_FOUND', async () => {
    await assert.rejects(loadImages(await freshStore(), 'docker-daemon:hs-test/nope:1', engine), (err) => {
      assert.ok(hasCode(err, 'HS_ERR_IMAGE_NOT_FOUND'), String(err))
      assert.match((err as Error).message, new RegExp(`the Docker Engine at ${podman.host} has no image hs-test/nope:1`))
      return true
    })
  })
})
