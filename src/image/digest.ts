import { createHash, type Hash } from 'node:crypto'
import { Transform, type TransformCallback } from 'node:stream'
import { ErrorCodes, HypershipError } from '../errors.js'

const SHA256 = /^sha256:([a-f0-9]{64})$/

/** `sha256:<hex>` of a buffer. */
export function sha256(data: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`
}

/** The hex part of a `sha256:<hex>` digest; throws on anything else. */
export function digestHex(digest: string): string {
  const m = SHA256.exec(digest)
  if (m?.[1] === undefined) {
    throw new HypershipError(ErrorCodes.BAD_MANIFEST, `unsupported or malformed digest "${digest}"`)
  }
  return m[1]
}

/** True when the string is a well-formed sha256 digest. */
export function isSha256(digest: unknown): digest is string {
  return typeof digest === 'string' && SHA256.test(digest)
}

/**
 * A pass-through stream that hashes what flows through it and, at the end,
 * fails the stream when the size or digest differ from what was expected.
 * With no expectation it only measures; read `digest` and `size` after `end`.
 */
export class DigestingStream extends Transform {
  readonly #hash: Hash = createHash('sha256')
  readonly #expected: { digest?: string; size?: number }
  readonly #what: string
  size = 0
  digest = ''

  constructor(what: string, expected: { digest?: string; size?: number } = {}) {
    super()
    this.#what = what
    this.#expected = expected
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.size += chunk.length
    const cap = this.#expected.size
    if (cap !== undefined && this.size > cap) {
      done(sizeError(this.#what, cap, this.size, true))
      return
    }
    this.#hash.update(chunk)
    done(null, chunk)
  }

  override _flush(done: TransformCallback): void {
    this.digest = `sha256:${this.#hash.digest('hex')}`
    const { digest, size } = this.#expected
    if (size !== undefined && this.size !== size) {
      done(sizeError(this.#what, size, this.size, false))
      return
    }
    if (digest !== undefined && digest !== this.digest) {
      done(new HypershipError(ErrorCodes.DIGEST_MISMATCH, `${this.#what}: expected ${digest}, got ${this.digest}`))
      return
    }
    done()
  }
}

function sizeError(what: string, expected: number, got: number, atLeast: boolean): HypershipError {
  return new HypershipError(
    ErrorCodes.SIZE_MISMATCH,
    `${what}: expected ${expected} bytes, got ${atLeast ? 'more than that' : got}`
  )
}
