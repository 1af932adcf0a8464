import { Readable } from 'node:stream'
import { ErrorCodes, HypershipError } from '../errors.js'
import type { BlobSink, PutResult } from '../image/transport.js'
import type { Budget } from './limits.js'
import { walkTar } from './tar-walk.js'

/** What became of one archive entry after the pass. */
type Held =
  | { kind: 'memory'; bytes: Buffer; put?: PutResult }
  | { kind: 'stored'; result: PutResult }
  | { kind: 'link'; target: string }

const MAX_LINK_HOPS = 32

/** How `collectArchive` should treat entries. */
export interface CollectOptions {
  /** Names the archive in messages. */
  what: string
  budget: Budget
  /** Entries to skip entirely (legacy `<id>/json`, say). */
  ignore?(path: string): boolean
  /** Entries that are metadata: always held in memory, capped at maxMetadataFile. */
  isMetadata(path: string): boolean
  /** The digest a streamed entry must have (from a `blobs/sha256/<hex>` name). */
  expected?(path: string): { digest?: string } | undefined
}

/** Verifies that `bytes` match a descriptor's digest and size. */
export function checkExpected(
  got: { digest: string; size: number },
  expected: { digest?: string; size?: number } | undefined,
  what: string
): void {
  if (expected?.size !== undefined && got.size !== expected.size) {
    throw new HypershipError(ErrorCodes.SIZE_MISMATCH, `${what}: expected ${expected.size} bytes, got ${got.size}`)
  }
  if (expected?.digest !== undefined && got.digest !== expected.digest) {
    throw new HypershipError(ErrorCodes.DIGEST_MISMATCH, `${what}: expected ${expected.digest}, got ${got.digest}`)
  }
}

/**
 * The entries of an archive read in one pass: small ones held in memory,
 * large ones already streamed into the sink, links remembered.
 */
export class ArchiveContents {
  constructor(
    readonly what: string,
    private readonly sink: BlobSink,
    private readonly entries: Map<string, Held>
  ) {}

  /** True when `path` names a file (directly or through links). */
  has(path: string): boolean {
    try {
      this.resolve(path)
      return true
    } catch {
      return false
    }
  }

  /** Follows links to a file entry; HS_ERR_BAD_ARCHIVE when there is none. */
  resolve(path: string): string {
    let at = path
    for (let hop = 0; hop <= MAX_LINK_HOPS; hop++) {
      const held = this.entries.get(at)
      if (held === undefined) {
        throw new HypershipError(ErrorCodes.BAD_ARCHIVE, `${this.what}: missing entry ${path}${at === path ? '' : ` (link to ${at})`}`)
      }
      if (held.kind !== 'link') return at
      at = held.target
    }
    throw new HypershipError(ErrorCodes.BAD_ARCHIVE, `${this.what}: too many links resolving ${path}`)
  }

  /** The whole body of a file entry, at most `max` bytes (HS_ERR_TOO_LARGE beyond). */
  async bytes(path: string, max: number): Promise<Buffer> {
    const held = this.#file(path)
    const size = held.kind === 'memory' ? held.bytes.length : held.result.size
    if (size > max) {
      throw new HypershipError(ErrorCodes.TOO_LARGE, `${this.what}: ${path} is ${size} bytes, over the ${max}-byte cap`)
    }
    if (held.kind === 'memory') return held.bytes
    return this.sink.readBytes(held.result.digest, max)
  }

  /** Makes sure the entry is in the sink (once) and checks it against `expected`. */
  async put(path: string, expected?: { digest?: string; size?: number }): Promise<PutResult> {
    const held = this.#file(path)
    const what = `${this.what}:${path}`
    if (held.kind === 'stored') {
      checkExpected(held.result, expected, what)
      return held.result
    }
    if (held.put === undefined) {
      held.put = await this.sink.put(Readable.from([held.bytes]), what, expected)
    }
    checkExpected(held.put, expected, what)
    return held.put
  }

  #file(path: string): Exclude<Held, { kind: 'link' }> {
    const held = this.entries.get(this.resolve(path))
    if (held === undefined || held.kind === 'link') {
      throw new HypershipError(ErrorCodes.INTERNAL, `${this.what}: ${path} did not resolve to a file`)
    }
    return held
  }
}

/**
 * Reads a tar stream once. Metadata and small entries are held in memory
 * within the budget; everything else is streamed into `sink` as it passes,
 * since the archive's index may come after its blobs.
 */
export async function collectArchive(input: Readable, sink: BlobSink, options: CollectOptions): Promise<ArchiveContents> {
  const { budget, what } = options
  const limits = budget.limits
  const entries = new Map<string, Held>()

  await walkTar(input, what, budget, async (entry) => {
    if (entry.kind === 'symlink' || entry.kind === 'hardlink') {
      entries.set(entry.path, { kind: 'link', target: entry.target ?? '' })
      return
    }
    if (entry.kind !== 'file' || options.ignore?.(entry.path) === true) return

    if (options.isMetadata(entry.path)) {
      const bytes = await entry.buffer(limits.maxMetadataFile)
      budget.reserve(bytes.length, `${what}:${entry.path}`)
      entries.set(entry.path, { kind: 'memory', bytes })
      return
    }
    if (entry.size <= limits.maxMemoryEntry && budget.fits(entry.size)) {
      budget.reserve(entry.size, `${what}:${entry.path}`)
      entries.set(entry.path, { kind: 'memory', bytes: await entry.buffer(limits.maxMemoryEntry) })
      return
    }
    const expected = { ...options.expected?.(entry.path), size: entry.size }
    const result = await sink.put(entry.stream(), `${what}:${entry.path}`, expected)
    entries.set(entry.path, { kind: 'stored', result })
  })
  return new ArchiveContents(what, sink, entries)
}
