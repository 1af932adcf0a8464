import Hypercore from 'hypercore'
import type { Duplex } from 'node:stream'
import type Hyperswarm from 'hyperswarm'
import { logger } from '../log.js'
import type { Store } from '../store/store.js'
import { AccessGate } from './access.js'
import { type CatalogEntry, type CatalogImage, decodeEntry, foldAudience, foldCatalog } from './catalog.js'
import { encodePeerId } from './identity.js'
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
  /** The peer identities the share is limited to (z-base32), or null when anyone with the key may fetch it. */
  allow: string[] | null
}

interface Seeded {
  catalog: Hypercore
  owned: boolean
  images: CatalogImage[]
  audience: Set<string> | null
  cores: Map<string, Hypercore>
  onAppend: () => void
}

/**
 * Serves shares on a swarm: each share's catalog topic is joined as server
 * and client, so peers that hold the same share find each other and fetch
 * from all of them at once. Every blob core a seeded catalog names that the
 * store holds is kept open: Corestore closes cores no session holds once
 * their replication looks idle, which would cut peers off mid-blob.
 *
 * Its AccessGate decides what each connection may replicate: a share's
 * catalog and blobs go to the peers its catalog's `allow` entry lists (to
 * anyone when it has none), and cores no seeded share or running receive
 * names go to nobody.
 */
export class Seeder {
  readonly swarm: Hyperswarm
  /** Which cores each peer may replicate; receive adds its own grants. */
  readonly access: AccessGate
  readonly #store: Store
  readonly #seeded = new Map<string, Seeded>()
  readonly #up = new RateMeter()
  readonly #down = new RateMeter()
  readonly #onUpload = (_index: number, bytes: number) => this.#up.add(bytes)
  readonly #onDownload = (_index: number, bytes: number) => this.#down.add(bytes)

  constructor(store: Store, swarm: Hyperswarm) {
    this.#store = store
    this.swarm = swarm
    const cores = store.blobs.cores
    this.access = new AccessGate((muxer, discoveryKey) => {
      const core = cores.cores.get(discoveryKey.toString('hex'))
      if (!core || core.closing) return
      core.replicator.detachFrom(muxer)
      core.replicator.attachTo(muxer)
    })
    replicateOn(swarm, store, this.access)
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
    const seeded: Seeded = { catalog, owned: catalog.writable, images: [], audience: new Set(), cores: new Map(), onAppend: () => {} }
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
    this.access.delete(grantName(key))
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
    for (const key of this.#seeded.keys()) this.access.delete(grantName(key))
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
    seeded.audience = foldAudience(entries)
    // the catalog and every blob it names, to the audience it names; set
    // before the blob cores open, so no channel opens ungated
    const blobKeys = seeded.images.flatMap((i) => i.blobs).filter((b) => b.key).map((b) => Buffer.from(b.key, 'hex'))
    this.access.set(grantName(encodeShareKey(seeded.catalog.key)), [seeded.catalog.key, ...blobKeys], seeded.audience)
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
    const allow = s.audience ? [...s.audience].map((hex) => encodePeerId(Buffer.from(hex, 'hex'))) : null
    return { key, owned: s.owned, images: s.images.map((i) => ({ manifest: i.manifest, names: i.names })), blobs: s.cores.size, allow }
  }
}

async function closeAll(s: Seeded): Promise<void> {
  s.catalog.off('append', s.onAppend)
  await Promise.all([...s.cores.values(), s.catalog].map((c) => c.close().catch(() => {})))
}

/** The AccessGate grant a seeded share holds. */
function grantName(key: string): string {
  return `share:${key}`
}

/**
 * Replicates the store's cores over every swarm connection, or over the
 * fast path's TCP stream to that peer when it can set one up; either way
 * through the gate.
 */
export function replicateOn(swarm: Hyperswarm, store: Store, access: AccessGate): void {
  const fastPath = fastPathOf(swarm)
  const replicate = (stream: Duplex) => {
    // the Protomux first, gated, then Corestore on it
    Hypercore.createProtocolStream(stream)
    access.install(stream as unknown as { remotePublicKey?: Buffer | null }, (stream as unknown as { userData: Parameters<AccessGate['install']>[1] }).userData)
    store.blobs.cores.replicate(stream)
  }
  swarm.on('connection', (conn) => {
    debug('peer connected %s', conn.remotePublicKey.toString('hex').slice(0, 12))
    conn.on('error', (err: Error) => debug('connection error: %s', err.message))
    if (fastPath) fastPath.attach(conn, replicate)
    else replicate(conn)
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
