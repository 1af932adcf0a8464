import { createHash } from 'node:crypto'
import { Readable } from 'node:stream'
import { ErrorCodes, HypershipError } from '../../src/errors.js'
import { DigestingStream } from '../../src/image/digest.js'
import type { BlobReader } from '../../src/image/transport.js'
import { InspectingSink, type ByteStore } from '../../src/archive/sink.js'

/** A content store in a Map, for tests: a ByteStore and a BlobReader at once. */
export class MemoryStore implements ByteStore, BlobReader {
  readonly blobs = new Map<string, Buffer>()
  /** How many times each digest was put. */
  readonly puts = new Map<string, number>()

  async put(stream: Readable, what: string, expected?: { digest?: string; size?: number }): Promise<{ digest: string; size: number }> {
    const digesting = new DigestingStream(what, expected)
    stream.on('error', (err) => digesting.destroy(err))
    stream.pipe(digesting)
    const chunks: Buffer[] = []
    for await (const chunk of digesting) chunks.push(chunk as Buffer)
    this.blobs.set(digesting.digest, Buffer.concat(chunks))
    this.puts.set(digesting.digest, (this.puts.get(digesting.digest) ?? 0) + 1)
    return { digest: digesting.digest, size: digesting.size }
  }

  async readBytes(digest: string, max: number): Promise<Buffer> {
    const bytes = this.#get(digest)
    if (bytes.length > max) throw new HypershipError(ErrorCodes.TOO_LARGE, `${digest} is over ${max} bytes`)
    return bytes
  }

  async open(digest: string): Promise<Readable> {
    return Readable.from([this.#get(digest)])
  }

  /** Stores bytes directly (manifests the caller keeps itself). */
  add(bytes: Buffer): string {
    const digest = `sha256:${createHashHex(bytes)}`
    this.blobs.set(digest, bytes)
    return digest
  }

  #get(digest: string): Buffer {
    const bytes = this.blobs.get(digest)
    if (bytes === undefined) throw new HypershipError(ErrorCodes.STORE_CORRUPT, `no blob ${digest}`)
    return bytes
  }
}

function createHashHex(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex')
}

/** A BlobSink backed by a MemoryStore. */
export class MemorySink extends InspectingSink {
  constructor(readonly store: MemoryStore = new MemoryStore(), options: { maxDecompressed?: number } = {}) {
    super(store, options)
  }
}
