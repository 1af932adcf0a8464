import { randomBytes } from 'node:crypto'
import { mkdir, readFile, readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type Hypercore from 'hypercore'
import { ErrorCodes, HypershipError } from '../errors.js'
import { logger } from '../log.js'
import { writeFileAtomic } from '../store/atomic.js'
import type { BlobEntry } from '../store/blob-store.js'
import type { ImageRecord } from '../store/image-db.js'
import type { Store } from '../store/store.js'
import { type CatalogEntry, type CatalogImage, MAX_ALLOWED, decodeEntry, encodeEntry, foldAudience, foldCatalog } from './catalog.js'
import { encodeShareKey } from './share-key.js'

const debug = logger('p2p')

/** What the store remembers about a share it owns. */
export interface ShareRecord {
  /** The share key (z-base32). */
  key: string
  /** The catalog core's name in the store's Corestore. */
  core: string
  created: string
}

/**
 * A share this store owns: a writable catalog core. Publishing appends
 * entries; the key never changes.
 */
export class Share {
  readonly record: ShareRecord
  readonly catalog: Hypercore
  readonly #store: Store

  private constructor(store: Store, record: ShareRecord, catalog: Hypercore) {
    this.#store = store
    this.record = record
    this.catalog = catalog
  }

  /** Creates a new share with a fresh key. */
  static async create(store: Store): Promise<Share> {
    const core = `share/${randomBytes(16).toString('hex')}`
    const catalog = store.blobs.cores.get({ name: core })
    await catalog.ready()
    const record = { key: encodeShareKey(catalog.key), core, created: new Date().toISOString() }
    await mkdir(store.layout.shares, { recursive: true })
    await writeFileAtomic(join(store.layout.shares, `${record.key}.json`), JSON.stringify(record))
    debug('created share %s', record.key)
    return new Share(store, record, catalog)
  }

  /** Opens a share this store created earlier, by its key. */
  static async open(store: Store, key: string): Promise<Share> {
    const record = (await listShares(store)).find((s) => s.key === key)
    if (!record) throw new HypershipError(ErrorCodes.BAD_KEY, `this store does not own share ${key}`)
    const catalog = store.blobs.cores.get({ name: record.core })
    await catalog.ready()
    if (!catalog.writable) throw new HypershipError(ErrorCodes.STORE_CORRUPT, `share ${key} is not writable here`)
    return new Share(store, record, catalog)
  }

  /**
   * Publishes images (with all their current tags) in one append. With
   * `audience`, the same append limits the share to those peers (hex public
   * keys; include the sharer's own, so receivers that re-seed it let the
   * sharer in too), or opens it to anyone (`null`).
   */
  async publish(images: ImageRecord[], audience?: string[] | null): Promise<void> {
    const entries: Buffer[] = []
    if (audience !== undefined) entries.push(allowEntry(audience))
    for (const image of images) {
      const blobs: BlobEntry[] = []
      for (const digest of image.blobs) {
        const entry = await this.#store.blobs.get(digest)
        if (!entry) throw new HypershipError(ErrorCodes.STORE_CORRUPT, `image ${image.digest} lacks blob ${digest}`)
        // what a peer needs to fetch and check it, nothing store-local
        blobs.push({ digest: entry.digest, size: entry.size, key: entry.key, blocks: entry.blocks })
      }
      const e: CatalogEntry = { v: 1, op: 'put', manifest: image.digest, names: image.tags, blobs }
      entries.push(encodeEntry(e))
    }
    if (entries.length > 0) await this.catalog.append(entries)
    debug('published %d images to %s (catalog length %d)', images.length, this.record.key, this.catalog.length)
  }

  /**
   * Withdraws images from the share: a name is untagged, an ID or digest
   * removes the image. Receivers that read the catalog afterwards no longer
   * see it; copies they already hold stay theirs.
   */
  async withdraw(inputs: Array<{ name: string } | { manifest: string }>): Promise<void> {
    const entries = inputs.map((i) =>
      encodeEntry('name' in i ? { v: 1, op: 'untag', names: [i.name] } : { v: 1, op: 'remove', manifest: i.manifest })
    )
    if (entries.length > 0) await this.catalog.append(entries)
  }

  /** Appends the images exactly as another catalog lists them (names, blobs), and the audience if given: for rotation. */
  async republish(images: CatalogImage[], audience: string[] | null): Promise<void> {
    const entries = [allowEntry(audience), ...images.map((i) => encodeEntry({ v: 1, op: 'put', manifest: i.manifest, names: i.names, blobs: i.blobs }))]
    await this.catalog.append(entries)
  }

  /** The images the catalog shares now and who may fetch them (hex keys, or null for anyone). */
  async contents(): Promise<{ images: CatalogImage[]; audience: Set<string> | null }> {
    const entries: CatalogEntry[] = []
    for (let i = 0; i < this.catalog.length; i++) {
      const block = await this.catalog.get(i, { wait: false })
      if (!block) throw new HypershipError(ErrorCodes.STORE_CORRUPT, `entry ${i} of share ${this.record.key} is missing`)
      entries.push(decodeEntry(block, i))
    }
    return { images: foldCatalog(entries), audience: foldAudience(entries) }
  }

  /** Forgets the share: this store stops owning (and so seeding) it. */
  async forget(): Promise<void> {
    await rm(join(this.#store.layout.shares, `${this.record.key}.json`), { force: true })
  }

  /** Closes the catalog session. */
  async close(): Promise<void> {
    await this.catalog.close()
  }
}

function allowEntry(audience: string[] | null): Buffer {
  const peers = audience === null ? null : [...new Set(audience)]
  if (peers && peers.length > MAX_ALLOWED) throw new HypershipError(ErrorCodes.TOO_LARGE, `an allow list holds at most ${MAX_ALLOWED} peers`)
  return encodeEntry({ v: 1, op: 'allow', peers })
}

/** Every share this store owns. */
export async function listShares(store: Store): Promise<ShareRecord[]> {
  const names = await readdir(store.layout.shares).catch(() => [] as string[])
  const out: ShareRecord[] = []
  for (const name of names.filter((n) => n.endsWith('.json'))) {
    try {
      out.push(JSON.parse(await readFile(join(store.layout.shares, name), 'utf8')) as ShareRecord)
    } catch (err) {
      debug('ignoring unreadable share record %s: %O', name, err)
    }
  }
  return out
}
