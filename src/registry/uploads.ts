import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { PassThrough } from 'node:stream'
import { finished } from 'node:stream/promises'
import { ErrorCodes, HypershipError } from '../errors.js'
import { logger } from '../log.js'
import type { BlobEntry } from '../store/blob-store.js'
import type { Store } from '../store/store.js'

const debug = logger('registry')

/** An upload nobody touched for this long is aborted. */
const IDLE_MS = 15 * 60_000
/** Most uploads in progress at once. */
export const MAX_UPLOADS = 64

/**
 * One blob upload (POST … PATCH* … PUT): the bytes of every PATCH stream
 * straight into the store's blob writer (which hashes them and spills past
 * 4 MiB to the store's tmp folder), so nothing is held in memory and no
 * second copy is kept; the PUT names the digest, which must match what
 * was measured before the blob is indexed.
 */
export class Upload {
  readonly id = randomUUID()
  readonly name: string
  offset = 0
  /** Set while a request feeds the upload; a second one at once is refused. */
  busy = false
  readonly #input = new PassThrough()
  readonly #result: Promise<BlobEntry>
  #digest: string | undefined
  #failure: Error | undefined
  #timer: NodeJS.Timeout | undefined
  readonly #onGone: () => void

  constructor(store: Store, name: string, onGone: () => void) {
    this.name = name
    this.#onGone = onGone
    this.#result = store.putBlob(this.#input, `pushed blob for ${name}`, (entry) => {
      if (entry.digest !== this.#digest) {
        throw new HypershipError(ErrorCodes.DIGEST_MISMATCH, `upload ${this.id}: the bytes hash to ${entry.digest}, not ${this.#digest}`)
      }
    })
    this.#result.catch((err: Error) => {
      this.#failure = err
    })
    this.#touch()
  }

  /** Appends a request body; resolves once all of it went to the writer. */
  async append(req: IncomingMessage): Promise<void> {
    if (this.#failure) throw this.#failure
    this.busy = true
    this.#touch()
    try {
      let n = 0
      req.on('data', (chunk: Buffer) => {
        n += chunk.length
      })
      req.pipe(this.#input, { end: false })
      // if the writer fails meanwhile (disk full), drain the rest so the client gets an answer
      void this.#result.catch(() => {
        req.unpipe(this.#input)
        req.resume()
      })
      await finished(req)
      this.offset += n
    } catch (err) {
      // a body cut short leaves the upload at an offset nobody knows: give up on it
      this.abort(new HypershipError(ErrorCodes.ABORTED, `upload ${this.id}: the client went away mid-body`, { cause: err }))
      throw this.#failure
    } finally {
      req.unpipe(this.#input)
      this.busy = false
    }
    if (this.#failure) throw this.#failure
  }

  /** Ends the upload: the blob is indexed if it hashes to `digest`. */
  async finish(digest: string): Promise<BlobEntry> {
    this.#digest = digest
    clearTimeout(this.#timer)
    this.#input.end()
    try {
      return await this.#result
    } finally {
      this.#onGone()
    }
  }

  /** Throws away what was written (the writer removes its spill file). */
  abort(why: Error = new HypershipError(ErrorCodes.ABORTED, `upload ${this.id} cancelled`)): void {
    this.#failure ??= why
    clearTimeout(this.#timer)
    this.#input.destroy(why)
    this.#onGone()
  }

  /** Resolves when the writer is done, whatever the outcome. */
  async settled(): Promise<void> {
    await this.#result.catch(() => {})
  }

  #touch(): void {
    clearTimeout(this.#timer)
    this.#timer = setTimeout(() => {
      debug('upload %s idle for %d s, aborting', this.id, IDLE_MS / 1000)
      this.abort()
    }, IDLE_MS)
    this.#timer.unref()
  }
}
