import assert from 'node:assert/strict'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { hasCode } from '../../src/errors.js'
import { MediaTypes } from '../../src/image/types.js'
import { namesFor } from '../../src/transports/oci-layout/names.js'
import { OciLayoutSource } from '../../src/transports/oci-layout/source.js'
import { buildImage, fullNames, ociEntries, sha, writeEntries, type BuiltImage, type RawEntry } from '../helpers/image-builder.js'
import { MemorySink } from '../helpers/memory-sink.js'
import { tmpdir } from '../helpers/tmp.js'
import { fixture, writeTar } from './fixtures.js'

const code = (c: string) => (err: unknown) => hasCode(err, c as 'HS_ERR_BAD_ARCHIVE')
const tagOnly = (img: BuiltImage) => img.names.map((n) => ({ 'org.opencontainers.image.ref.name': n.slice(n.lastIndexOf(':') + 1) }))

/** Writes the same layout as a directory and as a tar; returns both sources' factories. */
async function layouts(entries: RawEntry[], name = 'busybox.oci'): Promise<Array<[string, (ref?: string) => OciLayoutSource]>> {
  const dir = await tmpdir()
  const layoutDir = join(dir, name)
  await writeEntries(layoutDir, entries)
  const tarPath = await writeTar(dir, `${name}.tar`, entries)
  return [
    ['directory', (ref) => new OciLayoutSource(layoutDir, 'dir', ref)],
    ['tar', (ref) => new OciLayoutSource(tarPath, 'archive', ref)]
  ]
}

describe('OciLayoutSource', async () => {
  const fx = await fixture('zstd')

  for (const [kind, open] of await layouts(ociEntries([fx.app, fx.other], fullNames))) {
    it(`reads a layout ${kind}, keeping manifest bytes and checking diff_ids`, async () => {
      const sink = new MemorySink()
      const images = await open().read(sink)
      assert.deepEqual(images.map((i) => i.names), [['example.com/app:1', 'docker.io/library/app:latest'], []])
      assert.deepEqual(images.map((i) => sha(i.manifest)), [fx.app.manifestDigest, fx.other.manifestDigest])
      assert.equal(sink.result(fx.app.layers[1]?.digest ?? '')?.compression, 'zstd')
      assert.equal(sink.result(fx.app.layers[1]?.digest ?? '')?.diffId, fx.app.layers[1]?.diffId)
      assert.deepEqual(sink.store.blobs.get(fx.app.configDigest), fx.app.config)
    })

    it(`selects by ref.name and by digest in a layout ${kind}`, async () => {
      const byRef = await open('latest').read(new MemorySink())
      assert.deepEqual(byRef.map((i) => sha(i.manifest)), [fx.app.manifestDigest])
      const byDigest = await open().read(new MemorySink(), { select: [fx.other.manifestDigest] })
      assert.deepEqual(byDigest.map((i) => sha(i.manifest)), [fx.other.manifestDigest])
      await assert.rejects(open('2.0').read(new MemorySink()), code('HS_ERR_IMAGE_NOT_FOUND'))
    })
  }

  for (const [kind, open] of await layouts(ociEntries([fx.app], tagOnly), 'busybox.oci')) {
    it(`names a bare ref.name after the layout ${kind}`, async () => {
      const [image] = await open().read(new MemorySink())
      assert.deepEqual(image?.names, ['docker.io/library/busybox:1', 'docker.io/library/busybox:latest'])
    })
  }

  it('refuses a blob with a flipped byte', async () => {
    const entries = ociEntries([fx.app], fullNames)
    const layer = entries.find((e) => e.name === `blobs/sha256/${fx.app.layers[1]?.digest.slice(7)}`)
    assert.ok(layer && Buffer.isBuffer(layer.body))
    const flipped = Buffer.from(layer.body)
    flipped.writeUInt8((flipped.at(20) ?? 0) ^ 1, 20)
    layer.body = flipped
    for (const [, open] of await layouts(entries)) {
      await assert.rejects(open().read(new MemorySink()), code('HS_ERR_DIGEST_MISMATCH'))
    }
  })

  it('refuses a layer whose diff_id does not match the config', async () => {
    const wrong = buildImage([fx.app.layers[0], fx.other.layers[1]].filter((l) => l !== undefined), ['x:1'])
    const cfg = JSON.parse(wrong.config.toString()) as { rootfs: { diff_ids: string[] } }
    cfg.rootfs.diff_ids = fx.app.layers.map((l) => l.diffId)
    const lying = buildImage(wrong.layers, ['x:1'])
    const config = Buffer.from(JSON.stringify(cfg))
    const manifest = { ...lying.manifest, config: { ...lying.manifest.config, digest: sha(config), size: config.length } }
    const manifestBytes = Buffer.from(JSON.stringify(manifest))
    const image = { ...lying, config, configDigest: sha(config), manifest, manifestBytes, manifestDigest: sha(manifestBytes) }
    for (const [, open] of await layouts(ociEntries([image], fullNames))) {
      await assert.rejects(open().read(new MemorySink()), (err) => hasCode(err, 'HS_ERR_DIFF_ID_MISMATCH') && /layer 1/.test((err as Error).message))
    }
  })

  it('picks linux/amd64 from a multi-platform index, and refuses one without it', async () => {
    const arm = buildImage(fx.app.layers, [], 'arm', 'arm64')
    const nested = (archs: Array<[BuiltImage, string]>): RawEntry[] => {
      const list = Buffer.from(JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaTypes.ociIndex,
        manifests: archs.map(([img, arch]) => ({ mediaType: MediaTypes.ociManifest, digest: img.manifestDigest, size: img.manifestBytes.length, platform: { os: 'linux', architecture: arch } }))
      }))
      const entries = ociEntries(archs.map(([img]) => img), () => [])
      const index = { schemaVersion: 2, manifests: [{ mediaType: MediaTypes.ociIndex, digest: sha(list), size: list.length, annotations: { 'io.containerd.image.name': 'multi:1' } }] }
      return [...entries.filter((e) => e.name !== 'index.json'), { name: `blobs/sha256/${sha(list).slice(7)}`, body: list }, { name: 'index.json', body: JSON.stringify(index) }]
    }
    for (const [, open] of await layouts(nested([[arm, 'arm64'], [fx.app, 'amd64']]))) {
      const images = await open().read(new MemorySink())
      assert.deepEqual(images.map((i) => [i.names, sha(i.manifest)]), [[['docker.io/library/multi:1'], fx.app.manifestDigest]])
    }
    for (const [, open] of await layouts(nested([[arm, 'arm64']]))) {
      await assert.rejects(open().read(new MemorySink()), code('HS_ERR_UNSUPPORTED'))
    }
  })

  it('refuses a layout without oci-layout or with a malformed index.json', async () => {
    const entries = ociEntries([fx.app], fullNames)
    for (const [, open] of await layouts(entries.filter((e) => e.name !== 'oci-layout'))) {
      await assert.rejects(open().read(new MemorySink()), code('HS_ERR_BAD_ARCHIVE'))
    }
    const badIndex = entries.map((e) => (e.name === 'index.json' ? { ...e, body: '{"schemaVersion":2,"manifests":[{"digest":"md5:x"}]}' } : e))
    for (const [, open] of await layouts(badIndex)) {
      await assert.rejects(open().read(new MemorySink()), code('HS_ERR_BAD_MANIFEST'))
    }
  })
})

describe('namesFor', () => {
  const desc = (annotations?: Record<string, string>) => ({ mediaType: MediaTypes.ociManifest, digest: sha('x'), size: 1, ...(annotations ? { annotations } : {}) })
  const rows: Array<[string, Record<string, string> | undefined, string, string[]]> = [
    ['containerd name wins', { 'io.containerd.image.name': 'p2p-test/busybox:1.0', 'org.opencontainers.image.ref.name': '1.0' }, 'x.tar', ['docker.io/p2p-test/busybox:1.0']],
    ['full ref.name (podman)', { 'org.opencontainers.image.ref.name': 'localhost/p2p-test/busybox:1.0' }, 'x.tar', ['localhost/p2p-test/busybox:1.0']],
    ['full ref.name with registry', { 'org.opencontainers.image.ref.name': 'example.com/app:1' }, 'x.tar', ['example.com/app:1']],
    ['bare tag uses the layout name', { 'org.opencontainers.image.ref.name': '1.0' }, '/tmp/busybox.oci.tar', ['docker.io/library/busybox:1.0']],
    ['bare tag with a directory layout', { 'org.opencontainers.image.ref.name': 'v2' }, '/tmp/My_Images/', ['docker.io/library/my_images:v2']],
    ['no annotations means untagged', undefined, 'x.tar', []]
  ]
  for (const [label, annotations, location, want] of rows) {
    it(label, () => assert.deepEqual(namesFor(desc(annotations), location), want))
  }
})
