import { mkdir, readFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { ErrorCodes, HypershipError, wrap } from '../errors.js'
import { isSha256 } from '../image/digest.js'
import { writeFileAtomic } from './atomic.js'
import { withLockFile } from './lock.js'

/** What the store remembers about an image without reading its blobs. */
export interface ImageRecord {
  /** sha256 of the manifest bytes. */
  digest: string
  /** sha256 of the config: Docker's image ID. */
  config: string
  mediaType: string
  /** Every blob the image needs: manifest, config, layers. */
  blobs: string[]
  /** Sum of config and layer sizes, as `docker images` counts compressed size. */
  size: number
  /** Canonical `repo:tag` names pointing at this image. */
  tags: string[]
  /** When the image entered this store (ISO 8601). */
  added: string
}

interface DbFile {
  version: 1
  images: Record<string, ImageRecord>
}

const MAX_DB = 64 << 20

/**
 * images.json: the store's refs. Every change is a read-modify-write under a
 * lock file, written atomically, so concurrent CLI processes never lose an
 * update and a crash never leaves a torn file.
 */
export class ImageDb {
  readonly #path: string

  constructor(path: string) {
    this.#path = path
  }

  /** A snapshot of every image. */
  async read(): Promise<Record<string, ImageRecord>> {
    return (await this.#load()).images
  }

  /** Applies `change` to the images under the lock and saves the result. */
  async update<T>(change: (images: Record<string, ImageRecord>) => T): Promise<T> {
    await mkdir(dirname(this.#path), { recursive: true })
    return withLockFile(`${this.#path}.lock`, async () => {
      const db = await this.#load()
      const result = change(db.images)
      await writeFileAtomic(this.#path, JSON.stringify(db, null, 1))
      return result
    })
  }

  async #load(): Promise<DbFile> {
    let raw: Buffer
    try {
      raw = await readFile(this.#path)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, images: {} }
      throw wrap(err, `reading ${this.#path}`)
    }
    if (raw.length > MAX_DB) throw new HypershipError(ErrorCodes.STORE_CORRUPT, `${this.#path} is larger than ${MAX_DB} bytes`)
    try {
      const db = JSON.parse(raw.toString('utf8')) as DbFile
      if (db.version !== 1 || typeof db.images !== 'object' || db.images === null) throw new Error('unknown version')
      for (const [digest, rec] of Object.entries(db.images)) {
        if (!isSha256(digest) || rec.digest !== digest) throw new Error(`bad record ${digest}`)
      }
      return db
    } catch (err) {
      throw new HypershipError(ErrorCodes.STORE_CORRUPT, `${this.#path} is damaged: ${(err as Error).message}`, { cause: err })
    }
  }
}

/** Moves `tag` onto `digest`, taking it off whichever image had it. */
export function moveTag(images: Record<string, ImageRecord>, tag: string, digest: string): void {
  for (const rec of Object.values(images)) rec.tags = rec.tags.filter((t) => t !== tag)
  const target = images[digest]
  if (target && !target.tags.includes(tag)) target.tags.push(tag)
}
