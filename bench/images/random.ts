import { createCipheriv, createHash } from 'node:crypto'

/**
 * Deterministic incompressible bytes: the AES-256-CTR keystream for a key
 * derived from `seed`. The same seed gives the same bytes on every run, and
 * gzip or zstd cannot shrink them, unlike zeros or a repeated pattern.
 */
export class SeededBytes {
  readonly #cipher
  readonly #zeros = Buffer.alloc(1 << 20)

  constructor(seed: string) {
    const key = createHash('sha256').update(`hypership-bench:${seed}`).digest()
    this.#cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16))
  }

  /** The next `n` bytes of the stream. */
  next(n: number): Buffer {
    const parts: Buffer[] = []
    for (let left = n; left > 0; left -= this.#zeros.length) {
      parts.push(this.#cipher.update(left >= this.#zeros.length ? this.#zeros : this.#zeros.subarray(0, left)))
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts)
  }
}
