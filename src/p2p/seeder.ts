import type Hypercore from 'hypercore'
import type Hyperswarm from 'hyperswarm'
import { logger } from '../log.js'
import type { Store } from '../store/store.js'
import { type CatalogEntry, type CatalogImage, decodeEntry, foldCatalog } from './catalog.js'
import { encodeShareKey } from './share-key.js'
import { fastPathOf } from './swarm.js'

const debug = logger('p2p')

/** What one seeded share looks like from outside. */
export interface SeedStatus {
  key: string
  /** True for shares this store owns (can publish to). */
  owned: boolean
  images: Array<{ manifest: string; names: string[] }>
  /** Blob cores held open for peers. */
  blobs: number
}

interface Seeded {
  catalog: Hypercore
  owned: boolean
  images: CatalogImage[]
  cores: Map<string, Hypercore>
  onAppend: () => void
}

/**
 * Serves shares on a swarm: each share's catalog topic is joined as server
 * and client, so peers that hold the same share find each other and fetch
 * from all of them at once. Every blob core a seeded catalog names that the
 * store holds is kept open: Corestore closes cores no session holds once
 * their replication looks idle, which would cut peers off mid-blob.
 */
export class Seeder {
  readonly swarm: Hyperswarm
  readonly #store: Store
  readonly #seeded = new Map<string, Seeded>()
  readonly #up = new RateMeter()
  readonly #down = new RateMeter()
  readonly #onUpload = (_index: number, bytes: number) => this.#up.add(bytes)
  readonly #onDownload = (_index: number, bytes: number) => this.#down.add(bytes)

  constructor(store: Store, swarm: Hyperswarm) {
    this.#store = store
    this.swarm = swarm
    replicateOn(swarm, store)
  }

  /** Starts serving the catalog core `catalog` (a session the seeder now owns). */
  async seed(catalog: Hypercore): Promise<SeedStatus> {
    await catalog.ready()
    const key = encodeShareKey(catalog.key)
    const prior = this.#seeded.get(key)
    if (prior) {
      await catalog.close()
      await this.#refresh(prior)
      return this.#status(key, prior)
    }
    const seeded: Seeded = { catalog, owned: catalog.writable, images: [], cores: new Map(), onAppend: () => {} }
    seeded.onAppend = () => void this.#refresh(seeded).catch((err: unknown) => debug('refreshing %s failed: %O', key, err))
    catalog.on('append', seeded.onAppend)
    this.#seeded.set(key, seeded)
    await this.#refresh(seeded)
    await this.swarm.join(catalog.discoveryKey, { server: true, client: true }).flushed()
    debug('seeding %s: %d images, %d blob cores', key, seeded.images.length, seeded.cores.size)
    return this.#status(key, seeded)
  }

  /** Stops serving a share. */
  async unseed(key: string): Promise<boolean> {
    const seeded = this.#seeded.get(key)
    if (!seeded) return false
    this.#seeded.delete(key)
    await this.swarm.leave(seeded.catalog.discoveryKey)
    await closeAll(seeded)
    return true
  }

  /** Every seeded share. */
  status(): SeedStatus[] {
    return [...this.#seeded].map(([key, s]) => this.#status(key, s))
  }

  /** Bytes served to and fetched from peers through seeded cores, and current rates. */
  traffic(): { uploaded: number; downloaded: number; uploadRate: number; downloadRate: number } {
    return { uploaded: this.#up.total, downloaded: this.#down.total, uploadRate: this.#up.rate(), downloadRate: this.#down.rate() }
  }

  /** Releases every core; the swarm stays the caller's to destroy. */
  async close(): Promise<void> {
    const all = [...this.#seeded.values()]
    this.#seeded.clear()
    await Promise.all(all.map(closeAll))
  }

  async #refresh(seeded: Seeded): Promise<void> {
    const entries: CatalogEntry[] = []
    for (let i = 0; i < seeded.catalog.length; i++) {
      // a block we never downloaded is skipped rather than waited for
      const block = await seeded.catalog.get(i, { wait: false })
      if (block) entries.push(decodeEntry(block, i))
    }
    seeded.images = foldCatalog(entries)
    for (const blob of seeded.images.flatMap((i) => i.blobs)) {
      if (!blob.key || seeded.cores.has(blob.key)) continue
      if (!(await this.#store.blobs.get(blob.digest))) continue
      const core = this.#store.blobs.cores.get({ key: Buffer.from(blob.key, 'hex') })
      await core.ready()
      core.on('upload', this.#onUpload)
      core.on('download', this.#onDownload)
      seeded.cores.set(blob.key, core)
    }
  }

  #status(key: string, s: Seeded): SeedStatus {
    return { key, owned: s.owned, images: s.images.map((i) => ({ manifest: i.manifest, names: i.names })), blobs: s.cores.size }
  }
}

async function closeAll(s: Seeded): Promise<void> {
  s.catalog.off('append', s.onAppend)
  await Promise.all([...s.cores.values(), s.catalog].map((c) => c.close().catch(() => {})))
}

/**
 * Replicates the store's cores over every swarm connection, or over the
 * LAN fast path's TCP stream to that peer when it can set one up.
 */
export function replicateOn(swarm: Hyperswarm, store: Store): void {
  const fastPath = fastPathOf(swarm)
  swarm.on('connection', (conn) => {
    debug('peer connected %s', conn.remotePublicKey.toString('hex').slice(0, 12))
    conn.on('error', (err: Error) => debug('connection error: %s', err.message))
    if (fastPath) fastPath.attach(conn, (stream) => store.blobs.cores.replicate(stream))
    else store.blobs.cores.replicate(conn)
  })
}

/** Counts bytes and tells the rate over the last few seconds. */
class RateMeter {
  static readonly WINDOW_MS = 5000
  total = 0
  #samples: Array<[number, number]> = []

  add(bytes: number): void {
    this.total += bytes
    const now = Date.now()
    this.#samples.push([now, bytes])
    while ((this.#samples[0]?.[0] ?? now) < now - RateMeter.WINDOW_MS) this.#samples.shift()
  }

  /** Bytes per second over the window. */
  rate(): number {
    const since = Date.now() - RateMeter.WINDOW_MS
    const recent = this.#samples.filter(([t]) => t >= since).reduce((n, [, b]) => n + b, 0)
    return Math.round(recent / (RateMeter.WINDOW_MS / 1000))
  }
}
