import { checkExpected } from '../archive/contents.js'
import { inspectStream } from '../archive/inspector.js'
import type Hypercore from 'hypercore'
import type { Readable } from 'node:stream'
import { ErrorCodes, HypershipError, hasCode } from '../errors.js'
import { canonicalTag } from '../image/reference.js'
import { logger } from '../log.js'
import { BLOCK_SIZE, type BlobEntry } from '../store/blob-store.js'
import type { ImageRecord } from '../store/image-db.js'
import type { ImportTx } from '../store/import-tx.js'
import { MAX_METADATA } from '../store/manifest.js'
import { ensureSpace } from '../store/space.js'
import type { Store } from '../store/store.js'
import { type CatalogImage, MAX_ENTRIES, decodeEntry, foldAudience, foldCatalog } from './catalog.js'
import { encodePeerId, loadIdentity } from './identity.js'
import { addToSeedList } from './seed-list.js'
import { Seeder } from './seeder.js'
import { decodeShareKey } from './share-key.js'
import { transportOf } from './fast-path.js'
import { type NetworkOptions, openSwarm } from './swarm.js'
import { validateImage } from '../image/validate.js'

const debug = logger('p2p')

/**
 * How many 1 MiB blocks a blob core asks each peer for at once: [floor,
 * ceiling]. Hypercore's default floor (16) lets a TCP stream (the fast path)
 * have 48 in flight per core, which the sharer reads, encrypts and queues:
 * with three blobs at a time that cost about 80 MiB more peak memory on each
 * side for no gain in rate (1 GiB over loopback TCP: 10.3 s at 6, 10.8 s at
 * 16; peaks 258/284 MiB against 357/317). UDX streams with a short round
 * trip get the floor; a long round trip still scales up to the ceiling.
 */
const INFLIGHT_RANGE: [number, number] = [6, 512]

export interface ReceiveOptions extends NetworkOptions {
  /** How long to look for someone serving the key, in ms (default 30 s). */
  findTimeout?: number
  /** How long a blob may go without a new verified chunk, in ms (default 60 s). */
  stallTimeout?: number
  /** Only these names (as given by the sharer); default: everything shared. */
  select?: string[]
  /** The names to commit an image under, from the names the sharer gave it (default: those). */
  rename?: (names: string[]) => string[]
  /** Called with progress; see ReceiveEvent. */
  onEvent?: (event: ReceiveEvent) => void
  /**
   * Receive on this seeder's swarm and, once the images are in, seed the
   * share from this store too. Without it a swarm lives for this call only.
   */
  seeder?: Seeder
  /** Cancels the receive; what arrived is kept for the next run. */
  signal?: AbortSignal
}

/** Progress, as data. */
export type ReceiveEvent =
  | { type: 'searching'; key: string }
  | { type: 'catalog'; images: Array<{ manifest: string; names: string[]; size: number; blobs: string[] }>; peers: number; total: number }
  | { type: 'blob'; digest: string; size: number; have: number }
  | { type: 'chunk'; digest: string; bytes: number; peer: string }
  | { type: 'verified'; digest: string }

export interface ReceiveResult {
  images: ImageRecord[]
  /** Bytes of verified chunks fetched from peers in this run. */
  bytesReceived: number
  /**
   * Bytes read back from the store and hashed (sha256, diff_id) in this run:
   * every blob it fetched, whole, including chunks an interrupted run had
   * already fetched. Blobs verified before are not hashed again.
   */
  bytesHashed: number
  /** Blobs skipped because the store already held them. */
  blobsSkipped: number
  blobsFetched: number
  /** Public keys (hex) of the peers that sent chunks. */
  peers: string[]
  /** Verified chunk bytes per peer (hex public key). */
  bytesByPeer: Record<string, number>
  /** Verified chunk bytes by the connection that carried them: the LAN fast path (`tcp`) or the swarm. */
  bytesByTransport: { tcp: number; swarm: number }
}

const PARALLEL_BLOBS = 3
/** Quiet time after which a blob's missing chunks are requested again. */
const NUDGE_MS = 5000

/**
 * Finds whoever serves `shareKey`, fetches the chunks of every shared image
 * that the store lacks (each chunk checked against its core's Merkle tree as
 * it arrives), checks every blob's sha256, and commits the images with their
 * names. On failure nothing becomes visible; chunks already fetched stay in
 * the store, so a second run resumes.
 */
export async function receive(store: Store, shareKey: string, options: ReceiveOptions = {}): Promise<ReceiveResult> {
  const key = decodeShareKey(shareKey)
  const emit = options.onEvent ?? (() => {})
  const seeder = options.seeder ?? new Seeder(store, await openSwarm({ ...options, keyPair: options.keyPair ?? (await loadIdentity(store.layout.root)) }))
  const swarm = seeder.swarm
  // what this receive may replicate, and with whom: the catalog with the
  // audience of the copy we hold (anyone, when we hold none) until the
  // sharer's copy tells its audience, then the catalog and its blobs with that
  const grant = `receive:${shareKey}:${Math.random().toString(36).slice(2)}`
  seeder.access.set(grant, [key], await heldAudience(store, key))
  const tx = await store.beginImport()
  let catalog: Hypercore | undefined
  const stats = { bytes: 0, hashed: 0, peers: new Map<string, number>(), transports: { tcp: 0, swarm: 0 }, skipped: 0, fetched: 0 }
  try {
    emit({ type: 'searching', key: shareKey })
    catalog = store.blobs.cores.get({ key })
    await catalog.ready()
    const found = catalog.findingPeers()
    // announce too: other receivers of the same share fetch from us meanwhile
    swarm.join(catalog.discoveryKey, { server: true, client: true })
    swarm.flush().then(found, found)

    const read = await readCatalog(catalog, swarm, options.findTimeout ?? 30_000, shareKey, options.signal)
    const images = select(read.images, options.select)
    const blobKeys = read.images.flatMap((i) => i.blobs).filter((b) => b.key).map((b) => Buffer.from(b.key, 'hex'))
    seeder.access.set(grant, [key, ...blobKeys], read.audience)
    const unique = new Map(images.flatMap((i) => i.blobs.map((b) => [b.digest, b.size] as const)))
    emit({
      type: 'catalog',
      peers: swarm.connections.size,
      total: [...unique.values()].reduce((n, s) => n + s, 0),
      images: images.map((i) => ({ manifest: i.manifest, names: i.names, size: i.blobs.reduce((n, b) => n + b.size, 0), blobs: i.blobs.map((b) => b.digest) }))
    })

    const diffIds = new Map<string, string>()
    /** Blobs this run fetched, verified and indexed. */
    const fetched = new Set<string>()
    const wanted = new Map<string, BlobEntry>()
    for (const img of images) for (const b of img.blobs) wanted.set(b.digest, b)
    let missing = 0
    for (const b of wanted.values()) if (!(await tx.has(b.digest))) missing += b.size
    await ensureSpace(store.layout.root, missing, `receiving ${shareKey}`)
    const queue = [...wanted.values()]
    const worker = async (): Promise<void> => {
      for (let b = queue.shift(); b; b = queue.shift()) {
        options.signal?.throwIfAborted()
        if (await tx.has(b.digest)) {
          const held = await store.blobs.get(b.digest)
          if (held?.diffId) diffIds.set(b.digest, held.diffId)
          stats.skipped++
          emit({ type: 'blob', digest: b.digest, size: b.size, have: b.size })
          continue
        }
        await fetchBlob(store, tx, b, { stallTimeout: options.stallTimeout ?? 60_000, signal: options.signal }, emit, stats, diffIds)
        fetched.add(b.digest)
        stats.fetched++
      }
    }
    await Promise.all(Array.from({ length: PARALLEL_BLOBS }, worker))

    const commit = []
    try {
      for (const img of images) {
        const manifest = await tx.readBytes(img.manifest, MAX_METADATA)
        await validateImage(tx, manifest, img.manifest, (d) => diffIds.get(d))
        commit.push({ names: options.rename ? options.rename(img.names) : img.names, manifest })
      }
    } catch (err) {
      // the blobs are what the sharer said, but the images they make are not
      // sound: keep none of what this receive fetched
      await store.discardUnused([...fetched])
      throw err
    }
    const records = await tx.commit(commit)
    // the store holds this share now: a daemon started later seeds it too
    await addToSeedList(store, shareKey)
    if (options.seeder) {
      await options.seeder.seed(catalog)
      catalog = undefined
    }
    return { images: records, bytesReceived: stats.bytes, bytesHashed: stats.hashed, blobsSkipped: stats.skipped, blobsFetched: stats.fetched, peers: [...stats.peers.keys()], bytesByPeer: Object.fromEntries(stats.peers), bytesByTransport: stats.transports }
  } catch (err) {
    await tx.abort()
    if (options.signal?.aborted) throw new HypershipError(ErrorCodes.ABORTED, 'receive cancelled; what arrived is kept for the next run', { cause: err })
    throw err
  } finally {
    seeder.access.delete(grant)
    if (catalog && options.seeder) await swarm.leave(catalog.discoveryKey)
    await catalog?.close()
    if (!options.seeder) {
      await seeder.close()
      await swarm.destroy()
    }
  }
}

/** The audience of the copy of a catalog the store already holds, or null (anyone) when it holds none. */
async function heldAudience(store: Store, key: Buffer): Promise<Set<string> | null> {
  const held = store.blobs.cores.get({ key })
  try {
    await held.ready()
    const entries = []
    for (let i = 0; i < Math.min(held.length, MAX_ENTRIES); i++) {
      const block = await held.get(i, { wait: false })
      if (block) entries.push(decodeEntry(block, i))
    }
    return foldAudience(entries)
  } catch {
    // a damaged copy: the sharer's will replace it; until then serve it to no one
    return new Set()
  } finally {
    await held.close()
  }
}

/**
 * Waits for a peer that serves the catalog, brings the local copy up to the
 * peer's length (a copy from an earlier receive may be stale), and folds it.
 */
async function readCatalog(catalog: Hypercore, swarm: Seeder['swarm'], timeout: number, shareKey: string, signal?: AbortSignal) {
  const deadline = Date.now() + timeout
  const nobody = () =>
    new HypershipError(
      ErrorCodes.NO_PEERS,
      swarm.connections.size > 0 && catalog.length === 0
        ? `no peer served ${shareKey} (found ${swarm.connections.size}, looked for ${Math.round(timeout / 1000)} s); ` +
            `if the share is limited to listed peers, ask the sharer to allow ${encodePeerId(swarm.keyPair.publicKey)} (\`hypership id\`)`
        : `nobody is sharing ${shareKey} (looked for ${Math.round(timeout / 1000)} s; is the sharer running, and on the same --bootstrap? on a LAN with no internet, --lan)`
    )
  while (catalog.peers.length === 0) {
    signal?.throwIfAborted()
    if (Date.now() > deadline) throw nobody()
    await untilEvent(catalog, 'peer-add', Math.min(500, deadline - Date.now()))
  }
  // a copy kept from an earlier receive may be stale: ask the peer first
  await within(catalog.update({ wait: true }).catch(() => false), deadline - Date.now(), false)
  while (catalog.length === 0) {
    signal?.throwIfAborted()
    if (Date.now() > deadline) throw nobody()
    await untilEvent(catalog, 'append', Math.min(500, deadline - Date.now()))
  }
  if (catalog.length > MAX_ENTRIES) {
    throw new HypershipError(ErrorCodes.PEER_INVALID, `catalog has ${catalog.length} entries, more than ${MAX_ENTRIES}`)
  }
  const entries = []
  for (let i = 0; i < catalog.length; i++) {
    const block = await catalog.get(i, { timeout: Math.max(deadline - Date.now(), 10_000) }).catch((err: unknown) => {
      throw new HypershipError(ErrorCodes.STALLED, `catalog entry ${i} of ${shareKey} never arrived`, { cause: err })
    })
    if (!block) throw new HypershipError(ErrorCodes.STALLED, `catalog entry ${i} of ${shareKey} never arrived`)
    entries.push(decodeEntry(block, i))
  }
  debug('catalog of %s: %d entries', shareKey, entries.length)
  return { images: foldCatalog(entries), audience: foldAudience(entries) }
}

/** `p`'s value, or `fallback` after `ms`; the timer never outlives the race (it would keep the process alive). */
async function within<T, F>(p: Promise<T>, ms: number, fallback: F): Promise<T | F> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<F>((resolve) => (timer = setTimeout(() => resolve(fallback), Math.max(ms, 0))))
  try {
    return await Promise.race([p, late])
  } finally {
    clearTimeout(timer)
  }
}

/** Resolves after `event` fires on `emitter`, or after `ms`, whichever is first. */
function untilEvent(emitter: Hypercore, event: string, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer)
      emitter.off(event, done)
      resolve()
    }
    const timer = setTimeout(done, Math.max(ms, 0))
    emitter.on(event, done)
  })
}

function select(images: CatalogImage[], names: string[] | undefined): CatalogImage[] {
  if (!names || names.length === 0) return images
  return names.map((n) => {
    const want = /^sha256:/.test(n) ? n : canonicalTag(n)
    const img = images.find((i) => i.manifest === want || i.names.includes(want))
    if (!img) throw new HypershipError(ErrorCodes.IMAGE_NOT_FOUND, `the share has no image ${n}`)
    return img
  })
}

async function fetchBlob(
  store: Store,
  tx: ImportTx,
  entry: BlobEntry,
  limits: { stallTimeout: number; signal?: AbortSignal | undefined },
  emit: (e: ReceiveEvent) => void,
  stats: { bytes: number; hashed: number; peers: Map<string, number>; transports: { tcp: number; swarm: number } },
  diffIds: Map<string, string>
): Promise<void> {
  if (entry.size === 0) {
    tx.adopt(entry)
    return
  }
  const core = store.blobs.cores.get({ key: Buffer.from(entry.key, 'hex'), inflightRange: INFLIGHT_RANGE })
  await core.ready()
  let last = Date.now()
  const onDownload = (_index: number, bytes: number, from: Hypercore.Peer) => {
    last = Date.now()
    stats.bytes += bytes
    const peer = from?.remotePublicKey?.toString('hex') ?? 'unknown'
    stats.peers.set(peer, (stats.peers.get(peer) ?? 0) + bytes)
    stats.transports[transportOf(from?.stream)] += bytes
    emit({ type: 'chunk', digest: entry.digest, bytes, peer })
  }
  core.on('download', onDownload)
  // the sha256/diff_id pass reads each block as soon as it is in, so hashing
  // overlaps the download instead of re-reading the blob after it
  const blocks = core.createReadStream({ start: 0, end: entry.blocks, wait: true })
  const checking = verifyDownloaded(store, entry, blocks)
  checking.catch(() => {})
  // ends the download loop however this function leaves
  const done = new AbortController()
  const signal = limits.signal ? AbortSignal.any([limits.signal, done.signal]) : done.signal
  try {
    emit({ type: 'blob', digest: entry.digest, size: entry.size, have: await heldBytes(core, entry) })
    // the range is known from the catalog, so the download starts before any
    // peer has told us the core's length; the Merkle proofs check it
    await Promise.race([downloadAll(core, entry, () => last, limits.stallTimeout, signal), checking])
    if (core.length !== entry.blocks || core.byteLength !== entry.size) {
      throw new HypershipError(ErrorCodes.PEER_INVALID, `core for ${entry.digest} has ${core.byteLength} bytes, catalog says ${entry.size}`)
    }
    const diffId = await checking
    stats.hashed += entry.size
    diffIds.set(entry.digest, diffId)
    // a verified blob joins the store at once, so a receive that fails later
    // (or is killed) never fetches or hashes it again; `gc` drops it if no
    // image ever claims it
    await store.blobs.index({ ...entry, diffId })
    tx.adopt(entry)
    emit({ type: 'verified', digest: entry.digest })
  } finally {
    done.abort()
    core.off('download', onDownload)
    blocks.destroy()
    await core.close().catch(() => {})
  }
}

/**
 * Downloads every block of a core. When no chunk has arrived for a while the
 * range is requested afresh, which unsticks requests a peer never answered;
 * after `stallTimeout` without a chunk it gives up.
 */
async function downloadAll(core: Hypercore, entry: BlobEntry, lastChunk: () => number, stallTimeout: number, signal?: AbortSignal): Promise<void> {
  const range = { start: 0, end: entry.blocks }
  let download = core.download(range)
  let nudged = Date.now()
  for (;;) {
    const finished = download.done().then(
      () => true,
      () => false
    )
    if (await within(finished, 1000, false)) return
    if (signal?.aborted) {
      download.destroy()
      signal.throwIfAborted()
    }
    const idle = Date.now() - lastChunk()
    if (idle > stallTimeout) {
      download.destroy()
      const waited = Math.round(stallTimeout / 1000)
      throw stalled(entry, core.peers.length > 0 ? `no chunk arrived in ${waited} s from ${core.peers.length} peer(s) holding it` : `no chunk for ${waited} s, and no peer holding it is connected`)
    }
    if (idle > NUDGE_MS && Date.now() - nudged > NUDGE_MS) {
      debug('no chunk of %s for %d ms from %d peers; requesting the range again', entry.digest, idle, core.peers.length)
      download.destroy()
      download = core.download(range)
      nudged = Date.now()
    }
  }
}

/** Bytes of the blob already in the store (chunks from an interrupted run). */
async function heldBytes(core: Hypercore, entry: BlobEntry): Promise<number> {
  if (core.length === 0) return 0
  let held = 0
  for (let i = 0; i < entry.blocks; i++) {
    if (await core.has(i)) held += i === entry.blocks - 1 ? entry.size - (entry.blocks - 1) * BLOCK_SIZE : BLOCK_SIZE
  }
  return held
}

/**
 * Hashes the blob's blocks as they arrive (a mismatch means the sharer
 * published a lie) and returns its uncompressed digest, measured in the same
 * pass. A resumed blob is hashed from its first block again: Node's sha256
 * and inflate states cannot be saved across processes (docs/protocol.md).
 */
async function verifyDownloaded(store: Store, entry: BlobEntry, blocks: Readable): Promise<string> {
  try {
    const seen = await inspectStream(blocks, `blob ${entry.digest}`)
    checkExpected(seen, entry, `blob ${entry.digest}`)
    return seen.diffId
  } catch (err) {
    if (!hasCode(err, ErrorCodes.DIGEST_MISMATCH) && !hasCode(err, ErrorCodes.SIZE_MISMATCH)) throw err
    await store.blobs.purgeCore({ key: entry.key })
    throw new HypershipError(ErrorCodes.PEER_INVALID, `peer served core ${entry.key.slice(0, 12)}… whose bytes are not ${entry.digest}`, { cause: err })
  }
}

function stalled(entry: BlobEntry, why: string): HypershipError {
  return new HypershipError(ErrorCodes.STALLED, `fetching ${entry.digest} stalled: ${why}; what arrived is kept, run receive again to resume`)
}

