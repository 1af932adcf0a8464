import type { Readable } from 'node:stream'
import { ErrorCodes, HypershipError } from '../errors.js'
import type { BlobSink, PutResult } from '../image/transport.js'
import { LayerInspector } from './inspector.js'

/** A plain content store: keeps bytes and checks digests, knows nothing of layers. */
export interface ByteStore {
  /** Consumes `stream` and stores it; fails on a mismatch with `expected`. */
  put(stream: Readable, what: string, expected?: { digest?: string; size?: number }): Promise<{ digest: string; size: number }>
  /** Reads back at most `max` bytes of a stored blob. */
  readBytes(digest: string, max: number): Promise<Buffer>
}

/**
 * Turns a ByteStore into a BlobSink: every blob flows through a
 * LayerInspector on its way in, so each put returns the compression and the
 * diff_id as well. Remembers every PutResult by digest.
 */
export class InspectingSink implements BlobSink {
  readonly #store: ByteStore
  readonly #maxDecompressed: number | undefined
  readonly #results = new Map<string, PutResult>()

  constructor(store: ByteStore, options: { maxDecompressed?: number } = {}) {
    this.#store = store
    this.#maxDecompressed = options.maxDecompressed
  }

  /** Stores the stream's bytes and reports what they are. */
  async put(stream: Readable, what: string, expected?: { digest?: string; size?: number }): Promise<PutResult> {
    const inspector = new LayerInspector(what, { maxDecompressed: this.#maxDecompressed })
    stream.on('error', (err) => inspector.destroy(err))
    inspector.on('close', () => {
      if (!stream.readableEnded) stream.destroy()
    })
    stream.pipe(inspector)

    const stored = await this.#store.put(inspector, what, expected)
    const seen = inspector.result()
    if (seen.digest !== stored.digest || seen.size !== stored.size) {
      throw new HypershipError(
        ErrorCodes.INTERNAL,
        `${what}: store saw ${stored.digest} (${stored.size} bytes), inspector saw ${seen.digest} (${seen.size} bytes)`
      )
    }
    const result: PutResult = {
      digest: stored.digest,
      size: stored.size,
      compression: seen.compression,
      diffId: seen.diffId
    }
    this.#results.set(result.digest, result)
    return result
  }

  /** Reads back a blob put earlier. */
  readBytes(digest: string, max: number): Promise<Buffer> {
    return this.#store.readBytes(digest, max)
  }

  /** The PutResult of a blob put through this sink, if any. */
  result(digest: string): PutResult | undefined {
    return this.#results.get(digest)
  }

  /** Every blob put so far. */
  results(): PutResult[] {
    return [...this.#results.values()]
  }
}
