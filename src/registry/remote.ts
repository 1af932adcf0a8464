import { ErrorCodes, HypershipError, hasCode } from '../errors.js'
import { isSha256 } from '../image/digest.js'
import { logger } from '../log.js'
import { type ReceiveOptions, receive } from '../p2p/receive.js'
import { readRemotes } from '../p2p/remotes.js'
import type { Seeder } from '../p2p/seeder.js'
import type { ImageRecord } from '../store/image-db.js'
import type { Store } from '../store/store.js'
import { storeTag } from './names.js'
import type { RemoteSource } from './server.js'

const debug = logger('registry')

/** A tag pulled this recently is served again without asking the share. */
const FRESH_MS = 15_000

/**
 * Pulls `ALIAS/REST:TAG` from the share the user named ALIAS
 * (`hypership remote add`): receives the share's image named `REST:TAG`
 * (canonically, so `app:v1` is `docker.io/library/app:v1`) and stores it as
 * `ALIAS/REST:TAG` (`docker.io/ALIAS/REST:TAG`), never under the sharer's
 * own name, so it cannot displace a local image. By digest, a stored image
 * is served as is, else the share's image with that manifest digest is
 * received untagged. When nobody serves the share, a copy pulled before is
 * served.
 */
export class SharePuller implements RemoteSource {
  readonly #store: Store
  readonly #seeder: Seeder
  readonly #options: Pick<ReceiveOptions, 'findTimeout' | 'stallTimeout'>
  readonly #inflight = new Map<string, Promise<ImageRecord>>()
  readonly #fresh = new Map<string, { digest: string; at: number }>()

  constructor(store: Store, seeder: Seeder, options: Pick<ReceiveOptions, 'findTimeout' | 'stallTimeout'> = {}) {
    this.#store = store
    this.#seeder = seeder
    this.#options = options
  }

  async handles(name: string): Promise<boolean> {
    return (await this.#keyOf(name)) !== undefined
  }

  async pull(name: string, reference: string): Promise<ImageRecord> {
    const id = `${name}:${reference}`
    const running = this.#inflight.get(id)
    if (running) return running
    const work = this.#pull(name, reference).finally(() => this.#inflight.delete(id))
    this.#inflight.set(id, work)
    return work
  }

  async #pull(name: string, reference: string): Promise<ImageRecord> {
    const key = await this.#keyOf(name)
    if (!key) throw new HypershipError(ErrorCodes.IMAGE_NOT_FOUND, `${name} is not under a remote alias`)
    const rest = name.slice(name.indexOf('/') + 1)
    const images = await this.#store.db.read()
    if (isSha256(reference)) {
      const held = images[reference]
      if (held) return held
      const got = await this.#receive(key, reference, () => [])
      return got
    }
    const local = storeTag(name, reference)
    const fresh = this.#fresh.get(local)
    if (fresh && Date.now() - fresh.at < FRESH_MS && images[fresh.digest]?.tags.includes(local)) return images[fresh.digest]!
    try {
      const rec = await this.#receive(key, `${rest}:${reference}`, () => [local])
      this.#fresh.set(local, { digest: rec.digest, at: Date.now() })
      return rec
    } catch (err) {
      const offline = hasCode(err, ErrorCodes.NO_PEERS) || hasCode(err, ErrorCodes.STALLED)
      const before = Object.values(await this.#store.db.read()).find((r) => r.tags.includes(local))
      if (offline && before) {
        debug('%s: share unreachable, serving the copy pulled before', local)
        return before
      }
      throw err
    }
  }

  async #receive(key: string, select: string, rename: () => string[]): Promise<ImageRecord> {
    debug('pulling %s from share %s', select, key.slice(0, 12))
    const result = await receive(this.#store, key, { ...this.#options, seeder: this.#seeder, select: [select], rename })
    const rec = result.images[0]
    if (!rec) throw new HypershipError(ErrorCodes.IMAGE_NOT_FOUND, `the share has no image ${select}`)
    return rec
  }

  async #keyOf(name: string): Promise<string | undefined> {
    const slash = name.indexOf('/')
    if (slash <= 0) return undefined
    const remotes = await readRemotes(this.#store.layout)
    return Object.hasOwn(remotes, name.slice(0, slash)) ? remotes[name.slice(0, slash)] : undefined
  }
}
