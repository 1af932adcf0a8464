import assert from 'node:assert/strict'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import tar from 'tar-stream'
import { Readable } from 'node:stream'
import { hasCode } from '../../src/errors.js'
import type { Manifest } from '../../src/image/types.js'
import { openDestination, openSource, parseLocation } from '../../src/transports/location.js'
import { sha, toWrite } from '../helpers/image-builder.js'
import { MemorySink, MemoryStore } from '../helpers/memory-sink.js'
import { tmpdir } from '../helpers/tmp.js'
import { fixture } from './fixtures.js'

async function tarNames(path: string): Promise<Array<{ name: string; mode: number; mtime: number; uid: number }>> {
  const extract = tar.extract()
  Readable.from([await readFile(path)]).pipe(extract as unknown as NodeJS.WritableStream)
  const out = []
  for await (const entry of extract) {
    out.push({ name: entry.header.name, mode: entry.header.mode, mtime: entry.header.mtime.getTime(), uid: entry.header.uid })
    entry.resume()
  }
  return out
}

describe('destinations round-trip through sources', async () => {
  for (const compression of ['none', 'gzip', 'zstd'] as const) {
    const fx = await fixture(compression)
    for (const kind of ['docker-archive', 'oci-archive', 'oci'] as const) {
      it(`${kind} with ${compression} layers keeps manifest, config and diff_ids`, async () => {
        const store = new MemoryStore()
        const images = [toWrite(store, fx.app), toWrite(store, fx.other)]
        const path = join(await tmpdir(), kind === 'oci' ? 'layout' : 'out.tar')
        await (await openDestination(`${kind}:${path}`)).write(images, store)

        const location = await parseLocation(path)
        assert.equal(location.kind, kind) // sniffed from the content
        const sink = new MemorySink()
        const found = await openSource(location).read(sink)
        assert.deepEqual(found.map((i) => sha(i.manifest)), [fx.app.manifestDigest, fx.other.manifestDigest])
        assert.deepEqual(found.map((i) => i.names), [fx.app.names, []])
        const configs = found.map((i) => (JSON.parse(i.manifest.toString()) as Manifest).config.digest)
        assert.deepEqual(configs, [fx.app.configDigest, fx.other.configDigest])
        for (const layer of [...fx.app.layers, ...fx.other.layers]) {
          assert.equal(sink.result(layer.digest)?.diffId, layer.diffId)
        }
      })
    }
  }

  it('writes deterministic tars with each shared blob once', async () => {
    const fx = await fixture('gzip')
    const store = new MemoryStore()
    const images = [toWrite(store, fx.app), toWrite(store, fx.other)]
    const dir = await tmpdir()
    for (const kind of ['docker-archive', 'oci-archive']) {
      const a = join(dir, `${kind}-a.tar`)
      const b = join(dir, `${kind}-b.tar`)
      await (await openDestination(`${kind}:${a}`)).write(images, store)
      await (await openDestination(`${kind}:${b}`)).write(images, store)
      assert.equal(sha(await readFile(a)), sha(await readFile(b)))

      const entries = await tarNames(a)
      assert.equal(entries.filter((e) => e.name === `blobs/sha256/${fx.base.digest.slice(7)}`).length, 1)
      assert.ok(entries.every((e) => e.mtime === 0 && e.uid === 0 && (e.mode === 0o644 || e.mode === 0o755)))
      const names = entries.map((e) => e.name)
      assert.ok(names.includes('index.json') && names.includes('oci-layout'))
      assert.equal(names.includes('manifest.json'), kind === 'docker-archive')
    }
  })

  it('writes manifest.json and index.json the way docker load and containerd expect', async () => {
    const fx = await fixture('gzip')
    const store = new MemoryStore()
    const path = join(await tmpdir(), 'out.tar')
    await (await openDestination(`docker-archive:${path}`)).write([toWrite(store, fx.app)], store)
    const extract = tar.extract()
    Readable.from([await readFile(path)]).pipe(extract as unknown as NodeJS.WritableStream)
    const files = new Map<string, string>()
    for await (const entry of extract) {
      const chunks: Buffer[] = []
      for await (const c of entry) chunks.push(c as Buffer)
      if (!entry.header.name.startsWith('blobs/')) files.set(entry.header.name, Buffer.concat(chunks).toString())
    }
    assert.deepEqual(JSON.parse(files.get('manifest.json') ?? ''), [{
      Config: `blobs/sha256/${fx.app.configDigest.slice(7)}`,
      RepoTags: ['example.com/app:1', 'app:latest'],
      Layers: fx.app.layers.map((l) => `blobs/sha256/${l.digest.slice(7)}`)
    }])
    const index = JSON.parse(files.get('index.json') ?? '') as { manifests: Array<{ digest: string; annotations: Record<string, string> }> }
    assert.deepEqual(index.manifests.map((m) => [m.digest, m.annotations]), [
      [fx.app.manifestDigest, { 'io.containerd.image.name': 'example.com/app:1', 'org.opencontainers.image.ref.name': '1' }],
      [fx.app.manifestDigest, { 'io.containerd.image.name': 'docker.io/library/app:latest', 'org.opencontainers.image.ref.name': 'latest' }]
    ])
    assert.deepEqual(JSON.parse(files.get('repositories') ?? ''), {
      'example.com/app': { 1: fx.app.configDigest.slice(7) },
      app: { latest: fx.app.configDigest.slice(7) }
    })
  })

  it('leaves nothing behind when a write fails', async () => {
    const fx = await fixture('gzip')
    const store = new MemoryStore()
    const image = toWrite(store, fx.app)
    store.blobs.delete(fx.app.layers[1]?.digest ?? '')
    const dir = await tmpdir()
    for (const target of [`docker-archive:${join(dir, 'x.tar')}`, `oci-archive:${join(dir, 'y.tar')}`, `oci:${join(dir, 'z')}`]) {
      await assert.rejects((await openDestination(target)).write([image], store), (err) => hasCode(err, 'HS_ERR_STORE_CORRUPT'))
    }
    assert.deepEqual(await readdir(dir), [])
  })
})
