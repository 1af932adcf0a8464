import { mkdir, readFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { ErrorCodes, HypershipError, wrap } from '../errors.js'
import { isSha256 } from '../image/digest.js'
import { writeFileAtomic } from './atomic.js'
import { withLockFile } from './lock.js'

/** An image index or manifest list kept whole: its bytes are a blob, its children are images. */
export interface IndexRecord {
  /** sha256 of the index bytes (stored as a blob). */
  digest: string
  mediaType: string
  /** Digests of the image manifests it lists (each an image in images.json). */
  manifests: string[]
  /** Canonical `repo:tag` names pointing at this index. */
  tags: string[]
  added: string
}

const MAX_FILE = 16 << 20

/**
 * indexes.json: the indexes the store keeps whole (pushed to the registry
 * endpoint), `{"version":1,"indexes":{<digest>: record}}`, changed like
 * images.json: read-modify-write under a lock file, written atomically.
 */
export class IndexDb {
  readonly #path: string

  constructor(path: string) {
    this.#path = path
  }

  /** A snapshot of every index. */
  async read(): Promise<Record<string, IndexRecord>> {
    let raw: Buffer
    try {
      raw = await readFile(this.#path)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {}
      throw wrap(err, `reading ${this.#path}`)
    }
    if (raw.length > MAX_FILE) throw new HypershipError(ErrorCodes.STORE_CORRUPT, `${this.#path} is larger than ${MAX_FILE} bytes`)
    try {
      const db = JSON.parse(raw.toString('utf8')) as { version: number; indexes: Record<string, IndexRecord> }
      if (db.version !== 1 || typeof db.indexes !== 'object' || db.indexes === null) throw new Error('unknown version')
      for (const [digest, rec] of Object.entries(db.indexes)) {
        if (!isSha256(digest) || rec.digest !== digest || !Array.isArray(rec.manifests) || !Array.isArray(rec.tags)) throw new Error(`bad record ${digest}`)
      }
      return db.indexes
    } catch (err) {
      throw new HypershipError(ErrorCodes.STORE_CORRUPT, `${this.#path} is damaged: ${(err as Error).message}`, { cause: err })
    }
  }

  /** Applies `change` under the lock and saves the result. */
  async update<T>(change: (indexes: Record<string, IndexRecord>) => T): Promise<T> {
    await mkdir(dirname(this.#path), { recursive: true })
    return withLockFile(`${this.#path}.lock`, async () => {
      const indexes = await this.read()
      const result = change(indexes)
      await writeFileAtomic(this.#path, JSON.stringify({ version: 1, indexes }, null, 1))
      return result
    })
  }
}
