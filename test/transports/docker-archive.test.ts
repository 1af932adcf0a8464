import assert from 'node:assert/strict'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { gzipSync } from 'node:zlib'
import { hasCode } from '../../src/errors.js'
import { MediaTypes, type Manifest } from '../../src/image/types.js'
import { DockerArchiveSource } from '../../src/transports/docker-archive/source.js'
import { buildImage, buildLayer, hybridEntries, legacyDockerEntries, sha, type RawEntry } from '../helpers/image-builder.js'
import { MemorySink } from '../helpers/memory-sink.js'
import { tmpdir } from '../helpers/tmp.js'
import { fixture, writeTar } from './fixtures.js'

const parse = (b: Buffer): Manifest => JSON.parse(b.toString()) as Manifest
const code = (c: string) => (err: unknown) => hasCode(err, c as 'HS_ERR_BAD_ARCHIVE')

async function legacy(style: 'docker' | 'podman' = 'docker'): Promise<{ path: string; fx: Awaited<ReturnType<typeof fixture>> }> {
  const fx = await fixture()
  const dir = await tmpdir()
  const entries = await legacyDockerEntries([
    { image: fx.app, repoTags: ['example.com/app:1', 'app:latest'] },
    { image: fx.other, repoTags: null }
  ], style)
  return { path: await writeTar(dir, 'legacy.tar', entries), fx }
}

describe('DockerArchiveSource', () => {
  for (const style of ['docker', 'podman'] as const) {
    it(`reads a ${style} legacy archive with several tags and an untagged image`, async () => {
      const { path, fx } = await legacy(style)
      const sink = new MemorySink()
      const images = await new DockerArchiveSource(path).read(sink)

      assert.equal(images.length, 2)
      const [app, other] = images
      assert.deepEqual(app?.names, ['example.com/app:1', 'docker.io/library/app:latest'])
      assert.deepEqual(other?.names, [])
      const m = parse(app?.manifest ?? Buffer.alloc(0))
      assert.equal(m.mediaType, MediaTypes.ociManifest)
      assert.deepEqual(m.config, { mediaType: MediaTypes.ociConfig, digest: fx.app.configDigest, size: fx.app.config.length })
      assert.deepEqual(m.layers.map((l) => [l.mediaType, l.digest]), fx.app.layers.map((l) => [MediaTypes.ociLayer, l.diffId]))
      // The synthesised manifest is deterministic: fixed key order, no whitespace.
      assert.equal(app?.manifest.toString(), JSON.stringify(m))
      assert.deepEqual(sink.store.blobs.get(fx.app.configDigest), fx.app.config)
      assert.equal(sink.result(fx.base.diffId)?.diffId, fx.base.diffId)
      assert.equal(sink.store.puts.get(fx.base.diffId), 1) // shared layer stored once
    })
  }

  it('keeps the original OCI manifest of a hybrid (Docker 25) archive', async () => {
    const fx = await fixture('gzip')
    const path = await writeTar(await tmpdir(), 'hybrid.tar', hybridEntries([fx.app, fx.other]))
    const sink = new MemorySink()
    const images = await new DockerArchiveSource(path).read(sink)
    assert.deepEqual(images.map((i) => sha(i.manifest)), [fx.app.manifestDigest, fx.other.manifestDigest])
    assert.deepEqual(images[0]?.manifest, fx.app.manifestBytes)
    assert.equal(sink.result(fx.app.layers[1]?.digest ?? '')?.compression, 'gzip')
  })

  it('selects images by name, config digest and manifest digest', async () => {
    const { path, fx } = await legacy()
    const byName = await new DockerArchiveSource(path).read(new MemorySink(), { select: ['app'] })
    assert.deepEqual(byName.map((i) => i.names), [['docker.io/library/app:latest']])
    const byConfig = await new DockerArchiveSource(path).read(new MemorySink(), { select: [fx.other.configDigest] })
    assert.deepEqual(byConfig.map((i) => parse(i.manifest).config.digest), [fx.other.configDigest])
    const fromLocation = await new DockerArchiveSource(path, 'example.com/app:1').read(new MemorySink())
    assert.deepEqual(fromLocation.map((i) => i.names), [['example.com/app:1']])
    const byManifest = await new DockerArchiveSource(path).read(new MemorySink(), { select: [sha(fromLocation[0]?.manifest ?? '')] })
    assert.deepEqual(byManifest[0]?.names, ['example.com/app:1', 'docker.io/library/app:latest'])
    await assert.rejects(new DockerArchiveSource(path).read(new MemorySink(), { select: ['nope:1'] }), code('HS_ERR_IMAGE_NOT_FOUND'))
  })

  it('refuses a layer whose bytes do not match the diff_id', async () => {
    const fx = await fixture()
    const entries = await legacyDockerEntries([{ image: fx.app, repoTags: ['app:1'] }])
    const layer = entries.find((e) => e.name.endsWith('layer.tar') && Buffer.isBuffer(e.body) && e.body.equals(fx.app.layers[1]?.tar ?? Buffer.alloc(0)))
    assert.ok(layer && Buffer.isBuffer(layer.body))
    const flipped = Buffer.from(layer.body)
    flipped.writeUInt8((flipped.at(600) ?? 0) ^ 1, 600)
    layer.body = flipped
    const path = await writeTar(await tmpdir(), 'flipped.tar', entries)
    await assert.rejects(new DockerArchiveSource(path).read(new MemorySink()), (err) =>
      hasCode(err, 'HS_ERR_DIFF_ID_MISMATCH') && /layer 1 \(.*layer\.tar\)/.test((err as Error).message) && (err as Error).message.includes(fx.app.layers[1]?.diffId ?? '?'))
  })

  const broken: Array<[string, string, (entries: RawEntry[]) => void]> = [
    ['malformed manifest.json', 'HS_ERR_BAD_MANIFEST', (e) => setBody(e, './manifest.json', '[{"Config": "x.json",')],
    ['manifest.json of the wrong shape', 'HS_ERR_BAD_MANIFEST', (e) => setBody(e, './manifest.json', '{"Config": "x.json"}')],
    ['a missing layer entry', 'HS_ERR_BAD_ARCHIVE', (e) => e.splice(e.findIndex((x) => x.name.endsWith('layer.tar')), 1)],
    ['no manifest.json', 'HS_ERR_BAD_ARCHIVE', (e) => e.splice(e.findIndex((x) => x.name === './manifest.json'), 1)],
    ['a config that does not hash to its name', 'HS_ERR_DIGEST_MISMATCH', (e) => {
      const cfg = e.find((x) => /^\.\/[a-f0-9]{64}\.json$/.test(x.name))
      if (cfg) cfg.body = Buffer.concat([Buffer.from(cfg.body ?? ''), Buffer.from(' ')])
    }],
    ['a config that is not JSON', 'HS_ERR_BAD_MANIFEST', (e) => {
      const cfg = e.find((x) => /^\.\/[a-f0-9]{64}\.json$/.test(x.name))
      if (cfg) cfg.name = `./${sha('nope').slice(7)}.json`
      const m = e.find((x) => x.name === './manifest.json')
      if (m) m.body = String(m.body).replace(/"Config":"[a-f0-9]{64}\.json"/, `"Config":"notjson.json"`)
      e.push({ name: 'notjson.json', body: '{oops' })
    }],
    ['an escaping layer path in manifest.json', 'HS_ERR_BAD_ARCHIVE', (e) => {
      const m = e.find((x) => x.name === './manifest.json')
      if (m) m.body = String(m.body).replace(/"Layers":\["/, '"Layers":["../')
    }]
  ]
  for (const [label, want, mutate] of broken) {
    it(`refuses ${label} with ${want}`, async () => {
      const fx = await fixture()
      const entries = await legacyDockerEntries([{ image: fx.app, repoTags: ['app:1'] }])
      mutate(entries)
      const path = await writeTar(await tmpdir(), 'broken.tar', entries)
      await assert.rejects(new DockerArchiveSource(path).read(new MemorySink()), code(want))
    })
  }

  it('refuses a config with more diff_ids than layers', async () => {
    const fx = await fixture()
    const lying = buildImage([fx.base], ['app:1'])
    const extra = JSON.parse(lying.config.toString()) as { rootfs: { diff_ids: string[] } }
    extra.rootfs.diff_ids.push(fx.base.diffId)
    const cfg = Buffer.from(JSON.stringify(extra))
    const entries = await legacyDockerEntries([{ image: { ...lying, config: cfg, configDigest: sha(cfg) }, repoTags: ['app:1'] }])
    const path = await writeTar(await tmpdir(), 'count.tar', entries)
    await assert.rejects(new DockerArchiveSource(path).read(new MemorySink()), code('HS_ERR_BAD_MANIFEST'))
  })

  it('reads a gzip-compressed archive and streams large layers', async () => {
    const big = await buildLayer({ files: { 'big.bin': Buffer.alloc(3 * 1024 * 1024, 0x33) } })
    const image = buildImage([big], ['big:1'])
    const dir = await tmpdir()
    const plain = await writeTar(dir, 'big.tar', await legacyDockerEntries([{ image, repoTags: ['big:1'] }]))
    const gz = join(dir, 'big.tar.gz')
    await writeFile(gz, gzipSync(await readFile(plain)))
    const sink = new MemorySink()
    const [found] = await new DockerArchiveSource(gz).read(sink)
    assert.deepEqual(found?.names, ['docker.io/library/big:1'])
    assert.equal(parse(found?.manifest ?? Buffer.alloc(0)).layers[0]?.digest, big.diffId)
    assert.equal(sink.store.blobs.get(big.diffId)?.length, big.tar.length)
  })
})

function setBody(entries: RawEntry[], name: string, body: string): void {
  const entry = entries.find((e) => e.name === name)
  if (entry) entry.body = body
}
