import { mkdir, readFile, readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { Readable, Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import Corestore from 'corestore'
import Hypercore from 'hypercore'
import CoreStorage from 'hypercore-storage'
import { ErrorCodes, HypershipError, isDiskFull, wrap } from '../errors.js'
import { DigestingStream, digestHex, isSha256 } from '../image/digest.js'
import { logger } from '../log.js'
import { writeFileAtomic } from './atomic.js'
import { BlobWriter, SPILL_PREFIX } from './blob-writer.js'

const debug = logger('store')

/** Chunk size: one hypercore block per MiB of blob. */
export const BLOCK_SIZE = 1 << 20
/**
 * RocksDB memtable size for the blob store. Memtables hold written blocks
 * until they flush to blob files, so this trades memory for write speed:
 * importing 512 MiB took 11.6 s at 8 MiB, 8.0 s at 16 MiB and 6.2 s at
 * 32 MiB, with peak RSS 196, 209 and 254 MB.
 */
const WRITE_BUFFER = 16 << 20
/** An index entry is tiny; anything bigger is damage. */
const MAX_INDEX_ENTRY = 4096

/**
 * Where a blob's chunks live: a content-derived ("static") hypercore whose
 * key is the hash of a signer-less manifest pinning the Merkle root of the
 * blob's 1 MiB blocks. The same bytes give the same key on every peer.
 */
export interface BlobEntry {
  digest: string
  size: number
  /** Hex core key; empty for a zero-length blob, which has no core. */
  key: string
  blocks: number
  /**
   * sha256 of the uncompressed bytes, when it was measured as the blob
   * arrived (a received layer): lets a later image check it against its
   * config's diff_ids without reading the blob again. Local to this store.
   */
  diffId?: string
}

/** Names a core for the crash journal: a blob core by key (older journals also name scratch cores). */
export interface CoreRef {
  name?: string
  key?: string
  /** Hex discovery key: names any core, for garbage collection. */
  discoveryKey?: string
  /** For a blob core, the digest it holds. */
  digest?: string
}

/**
 * Blobs as static hypercores in one Corestore, plus a digest → core index
 * of small JSON files. A blob is visible only once its index file exists,
 * and the index file is written atomically after the core is complete.
 */
export class BlobStore {
  readonly cores: Corestore
  readonly #indexDir: string
  readonly #spillDir: string
  readonly #storage: CoreStorage

  constructor(coresDir: string, indexDir: string, spillDir: string) {
    // smaller memtables than RocksDB's 64 MiB default cap the memory plateau
    // a long transfer climbs to (see WRITE_BUFFER)
    this.#storage = new CoreStorage(coresDir, { writeBufferSize: WRITE_BUFFER })
    this.cores = new Corestore(this.#storage)
    this.#indexDir = indexDir
    this.#spillDir = spillDir
  }

  async ready(): Promise<void> {
    await mkdir(this.#indexDir, { recursive: true })
    await this.cores.ready()
  }

  async close(): Promise<void> {
    await this.cores.close()
  }

  /** The index entry for a digest, or undefined when the store lacks it. */
  async get(digest: string): Promise<BlobEntry | undefined> {
    const file = join(this.#indexDir, `${digestHex(digest)}.json`)
    let raw: Buffer
    try {
      raw = await readFile(file)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw wrap(err, `reading blob index ${digest}`)
    }
    return parseEntry(raw, digest)
  }

  /** Every indexed digest. */
  async list(): Promise<string[]> {
    const names = await readdir(this.#indexDir).catch(() => [] as string[])
    return names.filter((n) => /^[a-f0-9]{64}\.json$/.test(n)).map((n) => `sha256:${n.slice(0, 64)}`)
  }

  /** Makes a blob visible. Call only once its core holds every block, verified. */
  async index(entry: BlobEntry): Promise<void> {
    const file = join(this.#indexDir, `${digestHex(entry.digest)}.json`)
    await writeFileAtomic(file, JSON.stringify(entry))
  }

  /** Removes a blob from the index (its core is left for `purgeCore`). */
  async unindex(digest: string): Promise<void> {
    await rm(join(this.#indexDir, `${digestHex(digest)}.json`), { force: true })
  }

  /**
   * Streams bytes into a new static core and returns its entry without
   * indexing it. `onCore` hears the core key before the core is created, so
   * a journal can undo it after a crash. Each byte reaches the database once:
   * the blocks are hashed and set aside first (see BlobWriter), since the
   * core's key depends on all of them.
   */
  async write(
    source: Readable,
    what: string,
    expected: { digest?: string; size?: number },
    onCore: (core: CoreRef) => Promise<void>
  ): Promise<BlobEntry> {
    const writer = new BlobWriter(this.#spillDir)
    try {
      const check = new DigestingStream(what, expected)
      await pipeline(source, check, cutBlocks((block) => writer.push(block))).catch((err: unknown) => {
        throw isDiskFull(err) ? new HypershipError(ErrorCodes.DISK_FULL, `disk full while storing ${what}`, { cause: err }) : err
      })
      if (writer.length === 0) return { digest: check.digest, size: 0, key: '', blocks: 0 }

      const manifest = writer.manifest()
      const key = Hypercore.key(manifest)
      await onCore({ key: key.toString('hex'), digest: check.digest })
      const core = this.cores.get({ key, manifest })
      try {
        await core.ready()
        if (core.contiguousLength < writer.length) {
          await writer.fill(core).catch((err: unknown) => {
            throw isDiskFull(err) ? new HypershipError(ErrorCodes.DISK_FULL, `disk full while storing ${what}`, { cause: err }) : err
          })
        }
        const entry = { digest: check.digest, size: check.size, key: key.toString('hex'), blocks: core.length }
        debug('stored %s as core %s (%d blocks)', entry.digest, entry.key.slice(0, 12), entry.blocks)
        return entry
      } finally {
        await core.close()
      }
    } finally {
      await writer.dispose()
    }
  }

  /** Removes spill files a crashed import left behind (only the store's owner may call this). */
  async removeSpills(): Promise<void> {
    const names = await readdir(this.#spillDir).catch(() => [] as string[])
    for (const name of names.filter((n) => n.startsWith(SPILL_PREFIX))) await rm(join(this.#spillDir, name), { force: true })
  }

  /** A verified stream of a stored blob: it errors if the bytes differ from the index. */
  async open(digest: string): Promise<Readable> {
    const entry = await this.get(digest)
    if (!entry) throw new HypershipError(ErrorCodes.STORE_CORRUPT, `blob ${digest} is not in the store`)
    return this.openEntry(entry)
  }

  /** Like `open`, from an entry in hand. */
  openEntry(entry: BlobEntry): Readable {
    const check = new DigestingStream(`stored blob ${entry.digest}`, { digest: entry.digest, size: entry.size })
    if (entry.size === 0) return Readable.from([]).pipe(check)
    const core = this.cores.get({ key: Buffer.from(entry.key, 'hex') })
    const blocks = core.createReadStream({ start: 0, end: entry.blocks, wait: false })
    blocks.on('error', (err) => check.destroy(wrap(err, `reading blob ${entry.digest}`)))
    blocks.on('close', () => void core.close().catch(() => {}))
    return blocks.pipe(check)
  }

  /**
   * Bytes `start`..`end` (inclusive) of a stored blob, read from the blocks
   * that hold them. Unlike `openEntry` there is no sha256 to check a part
   * against; the caller asks for ranges knowing that.
   */
  openRange(entry: BlobEntry, start: number, end: number): Readable {
    if (entry.size === 0 || start > end) return Readable.from([])
    const first = Math.floor(start / BLOCK_SIZE)
    const last = Math.floor(end / BLOCK_SIZE)
    const core = this.cores.get({ key: Buffer.from(entry.key, 'hex') })
    const blocks = core.createReadStream({ start: first, end: last + 1, wait: false })
    let index = first
    const out = new Transform({
      transform(block: Buffer, _enc, done) {
        const base = index++ * BLOCK_SIZE
        done(null, block.subarray(Math.max(0, start - base), Math.min(block.length, end + 1 - base)))
      }
    })
    blocks.on('error', (err) => out.destroy(wrap(err, `reading blob ${entry.digest}`)))
    blocks.on('close', () => void core.close().catch(() => {}))
    return blocks.pipe(out)
  }

  /** Reads a whole small blob; refuses ones over `max` bytes. */
  async readBytes(digest: string, max: number): Promise<Buffer> {
    const entry = await this.get(digest)
    if (!entry) throw new HypershipError(ErrorCodes.STORE_CORRUPT, `blob ${digest} is not in the store`)
    return this.readEntry(entry, max)
  }

  /** Like `readBytes`, from an entry in hand. */
  async readEntry(entry: BlobEntry, max: number): Promise<Buffer> {
    if (entry.size > max) {
      throw new HypershipError(ErrorCodes.TOO_LARGE, `blob ${entry.digest} is ${entry.size} bytes, more than the ${max} allowed for metadata`)
    }
    const parts: Buffer[] = []
    for await (const part of this.openEntry(entry)) parts.push(part as Buffer)
    return Buffer.concat(parts)
  }

  /**
   * Compacts the database so purged cores (an aborted import's blobs, a
   * removed image) give their disk space back now rather than eventually.
   */
  async compact(): Promise<void> {
    await this.#storage.compact()
  }

  /** Deletes a core's blocks from disk (by key, discovery key or name). */
  async purgeCore(ref: CoreRef): Promise<void> {
    const core = ref.key
      ? this.cores.get({ key: Buffer.from(ref.key, 'hex'), createIfMissing: false })
      : ref.discoveryKey
        ? this.cores.get({ discoveryKey: Buffer.from(ref.discoveryKey, 'hex'), createIfMissing: false })
        : this.cores.get({ name: ref.name ?? '', createIfMissing: false })
    try {
      await core.ready()
      await core.purge()
    } catch (err) {
      debug('nothing to purge for %o: %s', ref, (err as Error).message)
      await core.close().catch(() => {})
    }
  }
}

/** A pipeline sink that re-chunks bytes into BLOCK_SIZE blocks for `onBlock`. */
function cutBlocks(onBlock: (block: Buffer) => Promise<void>) {
  return async function (source: AsyncIterable<Buffer>): Promise<void> {
    let pending: Buffer[] = []
    let pendingBytes = 0
    for await (const chunk of source) {
      pending.push(chunk)
      pendingBytes += chunk.length
      if (pendingBytes < BLOCK_SIZE) continue
      const joined = Buffer.concat(pending, pendingBytes)
      let off = 0
      for (; joined.length - off >= BLOCK_SIZE; off += BLOCK_SIZE) await onBlock(joined.subarray(off, off + BLOCK_SIZE))
      pending = off < joined.length ? [joined.subarray(off)] : []
      pendingBytes = joined.length - off
    }
    if (pendingBytes > 0) await onBlock(Buffer.concat(pending, pendingBytes))
  }
}

function parseEntry(raw: Buffer, digest: string): BlobEntry {
  const damaged = (why: string) =>
    new HypershipError(ErrorCodes.STORE_CORRUPT, `blob index for ${digest} is damaged: ${why}`)
  if (raw.length > MAX_INDEX_ENTRY) throw damaged('too large')
  let v: Partial<BlobEntry>
  try {
    v = JSON.parse(raw.toString('utf8')) as Partial<BlobEntry>
  } catch {
    throw damaged('not JSON')
  }
  if (v.digest !== digest || !isSha256(v.digest)) throw damaged('digest does not match its file name')
  if (!Number.isSafeInteger(v.size) || (v.size as number) < 0) throw damaged('bad size')
  if (typeof v.key !== 'string' || !/^([a-f0-9]{64})?$/.test(v.key)) throw damaged('bad core key')
  if (!Number.isSafeInteger(v.blocks) || v.blocks !== Math.ceil((v.size as number) / BLOCK_SIZE)) {
    throw damaged('block count does not match size')
  }
  if (v.diffId !== undefined && !isSha256(v.diffId)) throw damaged('bad diff_id')
  const entry: BlobEntry = { digest: v.digest, size: v.size as number, key: v.key, blocks: v.blocks as number }
  if (v.diffId !== undefined) entry.diffId = v.diffId
  return entry
}
