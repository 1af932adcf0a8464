import { Transform, type Readable, type TransformCallback, type Writable } from 'node:stream'
import { createGunzip } from 'node:zlib'
import { Decompress } from 'fzstd'
import { ErrorCodes, HypershipError } from '../errors.js'
import type { Compression } from '../image/types.js'

const GZIP = [0x1f, 0x8b, 0x08]
const ZSTD = [0x28, 0xb5, 0x2f, 0xfd]

/** Bytes `sniffCompression` wants to see to decide. */
export const SNIFF_BYTES = 4

/** Decides a blob's compression from its first bytes (gzip 1f8b08, zstd 28b52ffd, else none). */
export function sniffCompression(first: Uint8Array): Compression {
  const starts = (magic: number[]): boolean =>
    first.length >= magic.length && magic.every((b, i) => first[i] === b)
  if (starts(GZIP)) return 'gzip'
  if (starts(ZSTD)) return 'zstd'
  return 'none'
}

/** Streams zstd through fzstd, which decompresses synchronously in JS. */
class ZstdDecompressor extends Transform {
  readonly #zstd = new Decompress((chunk) => {
    // fzstd may reuse its window buffer: copy what we hand on.
    if (chunk.length > 0) this.push(Buffer.from(chunk))
  })

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    try {
      this.#zstd.push(chunk)
      done()
    } catch (err) {
      done(asError(err))
    }
  }

  override _flush(done: TransformCallback): void {
    try {
      this.#zstd.push(new Uint8Array(0), true)
      done()
    } catch (err) {
      done(asError(err))
    }
  }
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err))
}

/** Counts bytes and fails with HS_ERR_TOO_LARGE once they pass `max`. */
class Cap extends Transform {
  #seen = 0

  constructor(readonly max: number, readonly what: string) {
    super()
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.#seen += chunk.length
    if (this.#seen > this.max) {
      done(new HypershipError(ErrorCodes.TOO_LARGE, `${this.what}: decompresses to more than ${this.max} bytes`))
      return
    }
    done(null, chunk)
  }
}

/** A decompression pipe: write compressed bytes to `head`, read plain bytes from `tail`. */
export interface Decompressor {
  head: Writable
  /** Carries every error of the pipe, including HS_ERR_TOO_LARGE past the cap. */
  tail: Readable
}

/** A decompressor for `compression` (a pass-through for 'none') capped at `max` output bytes. */
export function createDecompressor(compression: Compression, max: number, what: string): Decompressor {
  const cap = new Cap(max, what)
  if (compression === 'none') return { head: cap, tail: cap }

  const inner = compression === 'gzip' ? createGunzip() : new ZstdDecompressor()
  inner.on('error', (err) => cap.destroy(err))
  inner.pipe(cap)
  return { head: inner, tail: cap }
}

/** Pipes `source` through a decompressor; errors of either side end the returned stream. */
export function decompress(source: Readable, compression: Compression, max: number, what: string): Readable {
  const { head, tail } = createDecompressor(compression, max, what)
  source.on('error', (err) => tail.destroy(err))
  tail.on('close', () => source.destroy())
  source.pipe(head)
  return tail
}
