import { randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import { ErrorCodes, HypershipError } from '../errors.js'
import { DigestingStream } from '../image/digest.js'
import { logger } from '../log.js'
import type { BlobEntry, BlobStore } from './blob-store.js'
import type { ImageDb, ImageRecord } from './image-db.js'
import { moveTag } from './image-db.js'
import { Journal } from './journal.js'
import { MAX_METADATA, parseManifest, summarize } from './manifest.js'

const debug = logger('store')

/** An image to commit: its manifest bytes and the names to give it. */
export interface CommitImage {
  names: string[]
  manifest: Buffer
}

/**
 * One import into the store. Blobs put here are written to cores at once but
 * stay invisible until `commit`, which indexes exactly the blobs the
 * committed images use and purges the rest. `abort` purges everything it
 * created; a crash leaves a journal that the next `Store.open` undoes.
 */
export class ImportTx {
  readonly #blobs: BlobStore
  readonly #db: ImageDb
  readonly #journal: Journal
  /** Blobs this import wrote or verified, by digest. */
  readonly #entries = new Map<string, { entry: BlobEntry; created: boolean }>()
  #done = false

  constructor(blobs: BlobStore, db: ImageDb, journalDir: string) {
    this.#blobs = blobs
    this.#db = db
    this.#journal = new Journal(journalDir, randomBytes(6).toString('hex'))
  }

  /**
   * Stores one blob from a stream, checking `expected` when given. A blob
   * the store already holds is only verified as it drains, not written again.
   */
  async put(stream: Readable, what: string, expected: { digest?: string; size?: number } = {}): Promise<{ digest: string; size: number }> {
    this.#live()
    const known = expected.digest ? await this.#known(expected.digest) : undefined
    if (known) {
      const check = new DigestingStream(what, expected)
      for await (const _ of stream.pipe(check)) void _
      debug('%s: %s already stored, verified and skipped', what, known.digest)
      return { digest: known.digest, size: known.size }
    }
    const entry = await this.#blobs.write(stream, what, expected, (ref) => this.#journal.record(ref))
    const existing = await this.#known(entry.digest)
    if (!existing) this.#entries.set(entry.digest, { entry, created: true })
    return { digest: entry.digest, size: entry.size }
  }

  /** Stores a blob held in memory. */
  async putBytes(bytes: Buffer, what: string, expected: { digest?: string; size?: number } = {}): Promise<{ digest: string; size: number }> {
    return this.put(Readable.from([bytes]), what, expected)
  }

  /** Makes a blob already complete in its core (downloaded from a peer) available to commit. */
  adopt(entry: BlobEntry): void {
    this.#live()
    this.#entries.set(entry.digest, { entry, created: false })
  }

  /** True when the store or this import already holds the blob. */
  async has(digest: string): Promise<boolean> {
    return (await this.#known(digest)) !== undefined
  }

  /** Reads back a blob this import put (or the store holds), at most `max` bytes. */
  async readBytes(digest: string, max: number): Promise<Buffer> {
    const entry = await this.#known(digest)
    if (!entry) throw new HypershipError(ErrorCodes.BAD_ARCHIVE, `blob ${digest} was never provided`)
    return this.#blobs.readEntry(entry, max)
  }

  /**
   * Makes the images visible: stores each manifest, checks that every blob it
   * names is present with the right size, indexes new blobs, then moves the
   * tags, all or nothing as far as readers of the store can tell.
   */
  async commit(images: CommitImage[]): Promise<ImageRecord[]> {
    this.#live()
    const records: ImageRecord[] = []
    for (const image of images) {
      if (image.manifest.length > MAX_METADATA) {
        throw new HypershipError(ErrorCodes.TOO_LARGE, `manifest is larger than ${MAX_METADATA} bytes`)
      }
      const { digest } = await this.putBytes(image.manifest, 'manifest')
      const manifest = parseManifest(image.manifest, digest)
      for (const desc of [manifest.config, ...manifest.layers]) {
        const entry = await this.#known(desc.digest)
        if (!entry) throw new HypershipError(ErrorCodes.BAD_ARCHIVE, `image ${digest} needs blob ${desc.digest}, which is missing`)
        if (entry.size !== desc.size) {
          throw new HypershipError(ErrorCodes.SIZE_MISMATCH, `blob ${desc.digest}: manifest says ${desc.size} bytes, got ${entry.size}`)
        }
      }
      records.push(summarize(image.manifest, manifest, image.names))
    }

    const used = new Set(records.flatMap((r) => r.blobs))
    for (const [digest, { entry }] of this.#entries) {
      if (used.has(digest) && !(await this.#blobs.get(digest))) await this.#blobs.index(entry)
    }
    await this.#db.update((db) => {
      for (const rec of records) {
        const prior = db[rec.digest]
        db[rec.digest] = { ...rec, tags: prior?.tags ?? [], added: prior?.added ?? rec.added }
        for (const tag of rec.tags) moveTag(db, tag, rec.digest)
      }
    })
    await this.#finish(used)
    return records.map((r) => ({ ...r }))
  }

  /** Throws away everything this import wrote. Safe to call after a failure. */
  async abort(): Promise<void> {
    if (this.#done) return
    await this.#finish(new Set())
  }

  async #finish(keep: Set<string>): Promise<void> {
    this.#done = true
    let purged = false
    for (const [digest, { entry, created }] of this.#entries) {
      if (created && !keep.has(digest) && entry.key && !(await this.#blobs.get(digest))) {
        await this.#blobs.purgeCore({ key: entry.key })
        purged = true
      }
    }
    await this.#journal.remove()
    // blobs this import wrote but nobody uses were purged; give the space back
    if (purged) await this.#blobs.compact()
  }

  async #known(digest: string): Promise<BlobEntry | undefined> {
    return this.#entries.get(digest)?.entry ?? (await this.#blobs.get(digest))
  }

  #live(): void {
    if (this.#done) throw new HypershipError(ErrorCodes.INTERNAL, 'import already committed or aborted')
  }
}
