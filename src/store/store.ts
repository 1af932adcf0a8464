import { randomBytes } from 'node:crypto'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { Readable } from 'node:stream'
import { ErrorCodes, HypershipError, wrap } from '../errors.js'
import { canonicalTag, formatReference, looksLikeId, parseReference, repository, tagTarget } from '../image/reference.js'
import { type Manifest, isManifestType } from '../image/types.js'
import { isSha256 } from '../image/digest.js'
import { MAX_METADATA, parseManifest } from './manifest.js'
import { logger } from '../log.js'
import { type BlobEntry, BlobStore } from './blob-store.js'
import { ImageDb, type ImageRecord, moveTag } from './image-db.js'
import { ImportTx } from './import-tx.js'
import { type IndexRecord, IndexDb } from './indexes.js'
import { Journal, staleJournals } from './journal.js'
import { type StoreLayout, storeLayout } from './paths.js'

const debug = logger('store')
const FORMAT = 'hypership-store 1\n'

export interface OpenOptions {
  /**
   * Open the blob cores too (the default). Commands that only read or change
   * refs (`ls`, `tag`) pass false, so they work while another process seeds;
   * 'optional' opens them unless another process holds them.
   */
  blobs?: boolean | 'optional'
}

/**
 * A local content-addressed image store: blobs in static hypercores (see
 * BlobStore), refs and image summaries in images.json. Only one process at a
 * time may open the blobs; refs are shared under a lock.
 */
export class Store {
  readonly layout: StoreLayout
  readonly db: ImageDb
  /** Image indexes kept whole (registry pushes); their children are images in `db`. */
  readonly indexes: IndexDb
  readonly #blobs: BlobStore | undefined

  private constructor(layout: StoreLayout, blobs: BlobStore | undefined) {
    this.layout = layout
    this.db = new ImageDb(layout.images)
    this.indexes = new IndexDb(layout.indexes)
    this.#blobs = blobs
  }

  /** Opens (creating if needed) the store at `dir`. Caller must `close()`. */
  static async open(dir: string, options: OpenOptions = {}): Promise<Store> {
    const layout = storeLayout(dir)
    await mkdir(dir, { recursive: true })
    await checkFormat(layout)
    if (options.blobs === false) return new Store(layout, undefined)

    const blobs = new BlobStore(layout.cores, layout.blobIndex, layout.tmp)
    try {
      await blobs.ready()
    } catch (err) {
      await blobs.close().catch(() => {})
      // RocksDB's LOCK file is held by another process
      const busy = /could not be locked|lock hold by current process|Resource temporarily unavailable/i.test((err as Error).message)
      if (busy && options.blobs === 'optional') return new Store(layout, undefined)
      if (busy) {
        throw new HypershipError(
          ErrorCodes.STORE_BUSY,
          `store ${dir} is in use by another hypership process (a share, receive, load or save still running); wait for it, stop it, or start \`hypership daemon\` so commands share the store`,
          { cause: err }
        )
      }
      throw wrap(err, `opening store ${dir}`)
    }
    const store = new Store(layout, blobs)
    await store.#recover()
    return store
  }

  async close(): Promise<void> {
    await this.#blobs?.close()
  }

  /** The blob cores; only when opened with blobs. */
  get blobs(): BlobStore {
    if (!this.#blobs) throw new HypershipError(ErrorCodes.INTERNAL, 'store was opened without blobs')
    return this.#blobs
  }

  /** Starts an import; nothing it writes is visible until `commit`. */
  async beginImport(): Promise<ImportTx> {
    await mkdir(this.layout.journal, { recursive: true })
    return new ImportTx(this.blobs, this.db, this.layout.journal)
  }

  /**
   * Stores one blob outside any image (a registry push before its manifest):
   * the core is journaled while it is written, `accept` sees the measured
   * entry and may throw to refuse it (a digest the client did not promise),
   * and only then is the blob indexed. Nothing is left behind on failure.
   * Blobs no image ever claims are reclaimed by gc.
   */
  async putBlob(stream: Readable, what: string, accept: (entry: BlobEntry) => void = () => {}): Promise<BlobEntry> {
    await mkdir(this.layout.journal, { recursive: true })
    const journal = new Journal(this.layout.journal, randomBytes(6).toString('hex'))
    let entry: BlobEntry | undefined
    try {
      entry = await this.blobs.write(stream, what, {}, (ref) => journal.record(ref))
      accept(entry)
      await this.blobs.index(entry)
      return entry
    } catch (err) {
      // never purge a core another blob index entry already points at
      if (entry?.key && !(await this.blobs.get(entry.digest))) await this.blobs.purgeCore({ key: entry.key })
      throw err
    } finally {
      await journal.remove()
    }
  }

  /**
   * Keeps an image index or manifest list whole: every image manifest it
   * lists must already be an image here (a nested index is refused), the
   * bytes are stored as a blob, and `tags` move onto it (off any image).
   */
  async putIndex(bytes: Buffer, mediaType: string, tags: string[]): Promise<IndexRecord> {
    if (bytes.length > MAX_METADATA) throw new HypershipError(ErrorCodes.TOO_LARGE, `index is larger than ${MAX_METADATA} bytes`)
    const children = parseIndexChildren(bytes)
    const images = await this.db.read()
    for (const child of children) {
      if (!images[child]) throw new HypershipError(ErrorCodes.IMAGE_NOT_FOUND, `the index lists ${child}, which is not an image in the store`)
    }
    const entry = await this.putBlob(Readable.from([bytes]), 'index')
    const rec: IndexRecord = { digest: entry.digest, mediaType, manifests: children, tags: [], added: new Date().toISOString() }
    if (tags.length > 0) {
      await this.db.update((all) => {
        for (const r of Object.values(all)) r.tags = r.tags.filter((t) => !tags.includes(t))
      })
    }
    return this.indexes.update((all) => {
      for (const r of Object.values(all)) r.tags = r.tags.filter((t) => !tags.includes(t))
      const kept = all[rec.digest] ?? rec
      kept.tags = [...new Set([...kept.tags, ...tags])]
      all[rec.digest] = kept
      return { ...kept }
    })
  }

  /** Takes `tag` off every index (an image was pushed under it). */
  async untagIndexes(tag: string): Promise<void> {
    const held = Object.values(await this.indexes.read()).some((r) => r.tags.includes(tag))
    if (held) await this.indexes.update((all) => Object.values(all).forEach((r) => (r.tags = r.tags.filter((t) => t !== tag))))
  }

  /** Every image, newest first. */
  async images(): Promise<ImageRecord[]> {
    const all = Object.values(await this.db.read())
    return all.sort((a, b) => b.added.localeCompare(a.added))
  }

  /**
   * Finds an image by name (`busybox`, `docker.io/library/busybox:1`), by
   * manifest digest or image ID (`sha256:…`, or a hex prefix of 12+ chars).
   */
  async resolve(input: string): Promise<ImageRecord> {
    const images = await this.db.read()
    const found = findImage(images, input)
    if (!found) throw new HypershipError(ErrorCodes.IMAGE_NOT_FOUND, `no such image in the store: ${input}`)
    return found
  }

  /** Reads and parses an image's manifest. */
  async manifest(rec: ImageRecord): Promise<{ manifest: Manifest; bytes: Buffer }> {
    const bytes = await this.blobs.readBytes(rec.digest, MAX_METADATA)
    return { manifest: parseManifest(bytes, rec.digest), bytes }
  }

  /** `docker tag SRC DST`. */
  async tag(source: string, target: string): Promise<ImageRecord> {
    const dst = tagTarget(target)
    return this.db.update((images) => {
      const rec = findImage(images, source)
      if (!rec) throw new HypershipError(ErrorCodes.IMAGE_NOT_FOUND, `no such image in the store: ${source}`)
      moveTag(images, dst, rec.digest)
      return rec
    })
  }

  /**
   * `docker rmi`: a name untags (and removes the image once no tag is
   * left); a digest removes the image with all its tags. Returns what was
   * untagged and whether the image went. Blobs no longer used by any image
   * are dropped from the index; their cores are purged when blobs are open.
   */
  async remove(input: string): Promise<{ untagged: string[]; deleted?: string }> {
    const byName = !looksLikeId(input)
    const result = await this.db.update((images) => {
      const rec = findImage(images, input)
      if (!rec) throw new HypershipError(ErrorCodes.IMAGE_NOT_FOUND, `no such image in the store: ${input}`)
      let untagged = rec.tags
      if (byName) {
        const name = canonicalTag(input)
        untagged = [name]
        rec.tags = rec.tags.filter((t) => t !== name)
        if (rec.tags.length > 0) return { untagged }
      }
      delete images[rec.digest]
      const stillUsed = new Set(Object.values(images).flatMap((r) => r.blobs))
      const orphans = rec.blobs.filter((b) => !stillUsed.has(b))
      return { untagged, deleted: rec.digest, orphans }
    })
    for (const digest of result.orphans ?? []) await this.#dropBlob(digest)
    return { untagged: result.untagged, ...(result.deleted ? { deleted: result.deleted } : {}) }
  }

  /** Drops the given blobs that no image uses (from the index, and their cores). */
  async discardUnused(digests: string[]): Promise<void> {
    const used = new Set(Object.values(await this.db.read()).flatMap((r) => r.blobs))
    for (const digest of digests) if (!used.has(digest)) await this.#dropBlob(digest)
  }

  async #dropBlob(digest: string): Promise<void> {
    if (!this.#blobs) {
      // opened without blobs: the index entry and core stay; `hypership gc`
      // reclaims them once no image uses them
      return
    }
    const entry = await this.#blobs.get(digest)
    await this.#blobs.unindex(digest)
    if (entry?.key) await this.#blobs.purgeCore({ key: entry.key })
    debug('dropped unused blob %s', digest)
  }

  async #recover(): Promise<void> {
    await this.blobs.removeSpills()
    for (const { path, refs } of await staleJournals(this.layout.journal)) {
      debug('recovering interrupted import %s (%d cores)', path, refs.length)
      for (const ref of refs) {
        if (ref.digest && (await this.blobs.get(ref.digest))) continue
        await this.blobs.purgeCore(ref)
      }
      await rm(path, { force: true })
    }
  }
}

/** Looks an image up by name, digest or ID prefix in a snapshot. */
export function findImage(images: Record<string, ImageRecord>, input: string): ImageRecord | undefined {
  const all = Object.values(images)
  const hex = /^(?:sha256:)?([a-f0-9]{12,64})$/.exec(input)?.[1]
  if (hex) {
    const hits = all.filter((r) => r.digest.slice(7).startsWith(hex) || r.config.slice(7).startsWith(hex))
    if (hits.length === 1) return hits[0]
    if (hits.length > 1) {
      throw new HypershipError(ErrorCodes.BAD_REFERENCE, `${input} matches ${hits.length} images; give more digits`)
    }
    if (input.startsWith('sha256:')) return undefined
  }
  const ref = parseReference(input)
  if (ref.digest) {
    const rec = images[ref.digest]
    return rec && (ref.tag === undefined || rec.tags.includes(`${repository(ref)}:${ref.tag}`)) ? rec : undefined
  }
  const name = formatReference(ref)
  return all.find((r) => r.tags.includes(name))
}

async function checkFormat(layout: StoreLayout): Promise<void> {
  const found = await readFile(layout.version, 'utf8').catch(() => undefined)
  if (found === undefined) {
    await writeFile(layout.version, FORMAT)
    return
  }
  if (found !== FORMAT) {
    throw new HypershipError(ErrorCodes.STORE_CORRUPT, `${layout.root} holds an unknown store format: ${found.trim().slice(0, 40)}`)
  }
}

/** The image manifest digests an index lists; HS_ERR_BAD_MANIFEST or HS_ERR_UNSUPPORTED otherwise. */
function parseIndexChildren(bytes: Buffer): string[] {
  let v: { schemaVersion?: unknown; manifests?: unknown }
  try {
    v = JSON.parse(bytes.toString('utf8')) as typeof v
  } catch (err) {
    throw new HypershipError(ErrorCodes.BAD_MANIFEST, 'index is not valid JSON', { cause: err })
  }
  if (v?.schemaVersion !== 2 || !Array.isArray(v.manifests)) throw new HypershipError(ErrorCodes.BAD_MANIFEST, 'not an image index')
  return v.manifests.map((d: { digest?: unknown; mediaType?: unknown }) => {
    if (!d || !isSha256(d.digest)) throw new HypershipError(ErrorCodes.BAD_MANIFEST, 'index entry without a sha256 digest')
    if (!isManifestType(d.mediaType as string)) {
      throw new HypershipError(ErrorCodes.UNSUPPORTED, `index entry ${d.digest} is a ${String(d.mediaType)}; only image manifests are kept`)
    }
    return d.digest
  })
}
