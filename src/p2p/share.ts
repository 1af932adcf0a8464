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
import { type CatalogEntry, encodeEntry } from './catalog.js'
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

  /** Publishes images (with all their current tags) in one append. */
  async publish(images: ImageRecord[]): Promise<void> {
    const entries: Buffer[] = []
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

  /** Forgets the share: this store stops owning (and so seeding) it. */
  async forget(): Promise<void> {
    await rm(join(this.#store.layout.shares, `${this.record.key}.json`), { force: true })
  }

  /** Closes the catalog session. */
  async close(): Promise<void> {
    await this.catalog.close()
  }
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
