import { createHash, type Hash } from 'node:crypto'
import { type Readable, Transform, type TransformCallback } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { ErrorCodes, HypershipError, hasCode } from '../errors.js'
import type { Compression } from '../image/types.js'
import { createDecompressor, sniffCompression, SNIFF_BYTES, type Decompressor } from './compression.js'
import { DEFAULT_LIMITS } from './limits.js'

/** What a LayerInspector learned about the bytes that passed through it. */
export interface Inspection {
  /** sha256 of the bytes as they flowed. */
  digest: string
  size: number
  compression: Compression
  /** sha256 of the decompressed bytes (equals `digest` when uncompressed). */
  diffId: string
  uncompressedSize: number
}

/**
 * A pass-through stream that hashes the bytes, sniffs their compression and
 * hashes the decompressed bytes too, without buffering the blob. Bytes that
 * fail to decompress do not fail the stream (the stored digest may explain
 * why); `result()` reports them afterwards. Passing `maxDecompressed` output
 * bytes fails the stream at once with HS_ERR_TOO_LARGE.
 */
export class LayerInspector extends Transform {
  readonly #what: string
  readonly #maxDecompressed: number
  readonly #hash: Hash = createHash('sha256')
  readonly #plainHash: Hash = createHash('sha256')
  #size = 0
  #plainSize = 0
  #head: Buffer[] = []
  #compression: Compression | undefined
  #decompressor: Decompressor | undefined
  #decodeError: Error | undefined
  /** The decompressed stream ended (zlib stops at the end of the last gzip member). */
  #decoded = false
  #release: (() => void) | undefined
  #result: Inspection | undefined

  constructor(what: string, options: { maxDecompressed?: number } = {}) {
    super()
    this.#what = what
    this.#maxDecompressed = options.maxDecompressed ?? DEFAULT_LIMITS.maxDecompressed
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.#hash.update(chunk)
    this.#size += chunk.length
    this.push(chunk)

    if (this.#compression !== undefined) {
      this.#feed(chunk, done)
      return
    }
    this.#head.push(chunk)
    const head = Buffer.concat(this.#head)
    if (head.length < SNIFF_BYTES) {
      done()
      return
    }
    this.#head = []
    this.#decide(head)
    this.#feed(head, done)
  }

  override _flush(done: TransformCallback): void {
    if (this.#compression === undefined) {
      const head = Buffer.concat(this.#head)
      this.#head = []
      this.#decide(head)
      this.#feed(head, () => this.#finish(done))
      return
    }
    this.#finish(done)
  }

  /** The inspection; throws HS_ERR_BAD_ARCHIVE if the bytes did not decompress. */
  result(): Inspection {
    if (this.#decodeError !== undefined) {
      throw new HypershipError(
        ErrorCodes.BAD_ARCHIVE,
        `${this.#what}: ${this.#compression} data is corrupt: ${this.#decodeError.message}`,
        { cause: this.#decodeError }
      )
    }
    if (this.#result === undefined) {
      throw new HypershipError(ErrorCodes.INTERNAL, `${this.#what}: inspection read before the stream ended`)
    }
    return this.#result
  }

  #decide(head: Buffer): void {
    this.#compression = sniffCompression(head)
    if (this.#compression === 'none') return

    const dec = createDecompressor(this.#compression, this.#maxDecompressed, this.#what)
    dec.tail.on('data', (plain: Buffer) => {
      this.#plainHash.update(plain)
      this.#plainSize += plain.length
    })
    dec.tail.on('error', (err) => {
      if (hasCode(err, ErrorCodes.TOO_LARGE)) this.destroy(err)
      else this.#decodeError ??= err
      this.#unblock()
    })
    dec.tail.once('end', () => {
      this.#decoded = true
      this.#unblock()
    })
    this.#decompressor = dec
  }

  #feed(chunk: Buffer, done: () => void): void {
    const dec = this.#decompressor
    if (dec === undefined || this.#decoded || this.#decodeError !== undefined || chunk.length === 0) {
      done()
      return
    }
    if (dec.head.write(chunk)) {
      done()
      return
    }
    this.#release = done
    dec.head.once('drain', () => this.#unblock())
  }

  #unblock(): void {
    const release = this.#release
    this.#release = undefined
    release?.()
  }

  #finish(done: TransformCallback): void {
    const digest = `sha256:${this.#hash.digest('hex')}`
    const complete = (): void => {
      const plain = this.#compression === 'none'
      this.#result = {
        digest,
        size: this.#size,
        compression: this.#compression ?? 'none',
        diffId: plain ? digest : `sha256:${this.#plainHash.digest('hex')}`,
        uncompressedSize: plain ? this.#size : this.#plainSize
      }
      done()
    }

    const dec = this.#decompressor
    if (dec === undefined || this.#decoded || this.#decodeError !== undefined) {
      complete()
      return
    }
    let settled = false
    const settle = (): void => {
      if (settled) return
      settled = true
      complete()
    }
    dec.tail.once('end', settle)
    dec.tail.once('error', settle)
    dec.head.end()
  }
}

/**
 * Reads `stream` to its end through a LayerInspector and returns what it
 * saw; any error of the stream (a digest mismatch, say) rejects.
 */
export async function inspectStream(stream: Readable, what: string): Promise<Inspection> {
  const inspector = new LayerInspector(what)
  await pipeline(stream, inspector, async (source: AsyncIterable<Buffer>) => {
    for await (const _ of source) void _
  })
  return inspector.result()
}
