import assert from 'node:assert/strict'
import { createCipheriv, createHash } from 'node:crypto'
import { once } from 'node:events'
import { Readable } from 'node:stream'
import { after, describe, it } from 'node:test'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import tar from 'tar-stream'
import { InspectingSink, type ByteStore } from '../../src/archive/sink.js'
import { ErrorCodes, HypershipError } from '../../src/errors.js'
import { DigestingStream } from '../../src/image/digest.js'
import type { BlobReader, ImageToWrite } from '../../src/image/transport.js'
import { MediaTypes, type Manifest } from '../../src/image/types.js'
import { loadImages } from '../../src/ops/images.js'
import { Store } from '../../src/store/store.js'
import { DockerDaemonDestination } from '../../src/transports/docker-daemon/destination.js'
import { Engine } from '../../src/transports/docker-daemon/engine.js'
import { DockerDaemonSource } from '../../src/transports/docker-daemon/source.js'
import { startDockerd } from '../helpers/dockerd.js'
import { tmpdir } from '../helpers/tmp.js'

const MiB = 1 << 20
/** 200 MiB; HS_TEST_IMAGE_MIB=1024 measures a 1 GiB image by hand. */
const SIZE = Number(process.env.HS_TEST_IMAGE_MIB ?? 200) * MiB
/** Growth of the RSS that would mean something buffers a good part of the image. */
const BOUND = 100 * MiB

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

/** SIZE incompressible, repeatable bytes, made as they are read. */
async function* noise(): AsyncGenerator<Buffer> {
  const cipher = createCipheriv('aes-128-ctr', Buffer.alloc(16, 7), Buffer.alloc(16, 0))
  const zeros = Buffer.alloc(MiB)
  for (let done = 0; done < SIZE; done += MiB) yield cipher.update(zeros)
}

/** A layer tar holding one SIZE-byte file, streamed (the same bytes every time). */
function layer(): Readable {
  const pack = tar.pack()
  const entry = pack.entry({ name: 'data.bin', size: SIZE, mtime: new Date(0), mode: 0o644, uid: 0, gid: 0 }, (err) => {
    if (!err) pack.finalize()
  })
  void (async () => {
    for await (const chunk of noise()) {
      if (!entry.write(chunk)) await once(entry as unknown as NodeJS.EventEmitter, 'drain')
    }
    entry.end(undefined)
  })()
  return Readable.from(pack, { objectMode: false })
}

async function digestOf(stream: Readable): Promise<{ digest: string; size: number }> {
  const hash = createHash('sha256')
  let size = 0
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    hash.update(chunk)
    size += chunk.length
  }
  return { digest: `sha256:${hash.digest('hex')}`, size }
}

/** Samples the RSS while `work` runs; returns its peak growth over the RSS before. */
async function rssGrowth(work: () => Promise<void>): Promise<number> {
  gc()
  const before = process.memoryUsage().rss
  let peak = before
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss)
  }, 10)
  try {
    await work()
  } finally {
    clearInterval(timer)
  }
  peak = Math.max(peak, process.memoryUsage().rss)
  return peak - before
}

/** A ByteStore that hashes and forgets large blobs (keeps small ones for readBytes). */
class HashingStore implements ByteStore {
  readonly small = new Map<string, Buffer>()

  async put(stream: Readable, what: string, expected?: { digest?: string; size?: number }): Promise<{ digest: string; size: number }> {
    const digesting = new DigestingStream(what, expected)
    stream.on('error', (err) => digesting.destroy(err))
    stream.pipe(digesting)
    const kept: Buffer[] = []
    let size = 0
    for await (const chunk of digesting as AsyncIterable<Buffer>) {
      size += chunk.length
      if (size <= 4 * MiB) kept.push(chunk)
    }
    if (size <= 4 * MiB) this.small.set(digesting.digest, Buffer.concat(kept))
    return { digest: digesting.digest, size: digesting.size }
  }

  async readBytes(digest: string, max: number): Promise<Buffer> {
    const bytes = this.small.get(digest)
    if (bytes === undefined || bytes.length > max) throw new HypershipError(ErrorCodes.STORE_CORRUPT, `no small blob ${digest}`)
    return bytes
  }
}

describe(`docker-daemon: streams a ${SIZE / MiB} MiB image without holding it in memory`, async () => {
  const dockerd = await startDockerd()
  after(() => dockerd.stop())
  const engine = new Engine(dockerd.host)

  const tarred = await digestOf(layer())
  const config = Buffer.from(
    JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [tarred.digest] }, history: [{ created_by: 'noise' }] })
  )
  const configDigest = `sha256:${createHash('sha256').update(config).digest('hex')}`
  const manifest: Manifest = {
    schemaVersion: 2,
    mediaType: MediaTypes.ociManifest,
    config: { mediaType: MediaTypes.ociConfig, digest: configDigest, size: config.length },
    layers: [{ mediaType: MediaTypes.ociLayer, digest: tarred.digest, size: tarred.size }]
  }
  const manifestBytes = Buffer.from(JSON.stringify(manifest))
  const image: ImageToWrite = {
    names: ['docker.io/hs-test/big:1'],
    manifest,
    manifestBytes,
    manifestDigest: `sha256:${createHash('sha256').update(manifestBytes).digest('hex')}`
  }
  const blobs: BlobReader = {
    open: async (digest) => (digest === tarred.digest ? layer() : Readable.from([config])),
    readBytes: async () => config
  }

  it('into dockerd: the upload is built as it goes', async () => {
    const growth = await rssGrowth(() => new DockerDaemonDestination(engine).write([image], blobs))
    const res = await dockerd.docker(['image', 'inspect', '--format', '{{.Id}} {{.Size}}', 'hs-test/big:1'])
    assert.equal(res.code, 0, res.stderr)
    assert.equal(res.stdout.trim().split(' ')[0], configDigest)
    process.stderr.write(`load into dockerd: RSS grew ${(growth / MiB).toFixed(1)} MiB for a ${SIZE / MiB} MiB layer\n`)
    assert.ok(growth < BOUND, `RSS grew ${(growth / MiB).toFixed(1)} MiB`)
  })

  it('out of dockerd: /images/get streams through the archive reader', async () => {
    const sink = new InspectingSink(new HashingStore())
    let found: Awaited<ReturnType<DockerDaemonSource['read']>> = []
    const growth = await rssGrowth(async () => {
      found = await new DockerDaemonSource(engine, { name: 'docker.io/hs-test/big:1' }, 'hs-test/big:1').read(sink)
    })
    assert.equal(found.length, 1)
    assert.equal(sink.result(tarred.digest)?.diffId, tarred.digest)
    assert.equal(sink.result(tarred.digest)?.size, tarred.size)
    process.stderr.write(`read from dockerd: RSS grew ${(growth / MiB).toFixed(1)} MiB\n`)
    assert.ok(growth < BOUND, `RSS grew ${(growth / MiB).toFixed(1)} MiB`)
  })

  it('out of dockerd into a store: same ID, bounded memory', async () => {
    const store = await Store.open(await tmpdir())
    after(() => store.close())
    let config = ''
    const growth = await rssGrowth(async () => {
      const [rec] = await loadImages(store, 'docker-daemon:hs-test/big:1', { dockerHost: dockerd.host })
      config = rec?.config ?? ''
    })
    assert.equal(config, configDigest)
    process.stderr.write(`docker-daemon: into a store: RSS grew ${(growth / MiB).toFixed(1)} MiB\n`)
    // the store adds RocksDB memtables and caches (about 90 MiB here), still far below the image
    assert.ok(growth < 1.5 * BOUND, `RSS grew ${(growth / MiB).toFixed(1)} MiB`)
  })
})
