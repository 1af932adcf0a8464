import { ErrorCodes, HypershipError } from '../errors.js'

/** Caps that keep a hostile archive from exhausting memory or disk. */
export interface ArchiveLimits {
  /** Largest JSON metadata file (manifest.json, index.json, a config). */
  maxMetadataFile: number
  /** Most entries an archive may have. */
  maxEntries: number
  /** Most bytes held in memory for one archive. */
  maxBuffered: number
  /** Entries up to this size may be held in memory instead of streamed. */
  maxMemoryEntry: number
  /** Most bytes one layer may decompress to (decompression bomb guard). */
  maxDecompressed: number
}

const MiB = 1024 * 1024

/** The defaults: 4 MiB per metadata file, 100,000 entries, 64 MiB held, 1 MiB entries, 64 GiB layers. */
export const DEFAULT_LIMITS: Readonly<ArchiveLimits> = Object.freeze({
  maxMetadataFile: 4 * MiB,
  maxEntries: 100_000,
  maxBuffered: 64 * MiB,
  maxMemoryEntry: 1 * MiB,
  maxDecompressed: 64 * 1024 * MiB
})

/** Fills in defaults for the limits not given. */
export function withDefaults(limits?: Partial<ArchiveLimits>): ArchiveLimits {
  return { ...DEFAULT_LIMITS, ...limits }
}

/** Counts entries and buffered bytes for one archive against its limits. */
export class Budget {
  readonly limits: ArchiveLimits
  #entries = 0
  #buffered = 0

  constructor(limits: ArchiveLimits) {
    this.limits = limits
  }

  /** Counts one more entry; HS_ERR_TOO_LARGE past `maxEntries`. */
  countEntry(what: string): void {
    this.#entries++
    if (this.#entries > this.limits.maxEntries) {
      throw new HypershipError(ErrorCodes.TOO_LARGE, `${what}: more than ${this.limits.maxEntries} entries`)
    }
  }

  /** True when `bytes` more would still fit in memory. */
  fits(bytes: number): boolean {
    return this.#buffered + bytes <= this.limits.maxBuffered
  }

  /** Reserves `bytes` of memory; HS_ERR_TOO_LARGE when over the total. */
  reserve(bytes: number, what: string): void {
    if (!this.fits(bytes)) {
      throw new HypershipError(
        ErrorCodes.TOO_LARGE,
        `${what}: archive metadata exceeds ${this.limits.maxBuffered} bytes in total`
      )
    }
    this.#buffered += bytes
  }

  /** Bytes currently reserved. */
  get buffered(): number {
    return this.#buffered
  }
}
