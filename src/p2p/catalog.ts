import { ErrorCodes, HypershipError } from '../errors.js'
import { isSha256 } from '../image/digest.js'
import { canonicalTag } from '../image/reference.js'
import { BLOCK_SIZE, type BlobEntry } from '../store/blob-store.js'

/**
 * A share's catalog is an append-only, signed hypercore of JSON entries. The
 * share key is that core's public key, so a share can grow (new tags, new
 * images) without changing its key, and the DHT topic (the core's discovery
 * key, a hash of the key) tells a watcher nothing about what is shared.
 *
 * Entries are facts folded in order: `put` publishes an image with the cores
 * holding its blobs and (re)points names at it; `untag` removes names;
 * `remove` withdraws an image; `allow` limits who may fetch the share to the
 * listed peer identities (hex public keys), or lifts the limit (`null`). The
 * last `allow` wins, and whoever seeds the share (the sharer, and receivers
 * that re-seed it) serves its catalog and blobs to those peers only.
 */
export type CatalogEntry =
  | { v: 1; op: 'put'; manifest: string; names: string[]; blobs: BlobEntry[] }
  | { v: 1; op: 'untag'; names: string[] }
  | { v: 1; op: 'remove'; manifest: string }
  | { v: 1; op: 'allow'; peers: string[] | null }

/** An image as the catalog currently describes it. */
export interface CatalogImage {
  manifest: string
  names: string[]
  blobs: BlobEntry[]
}

/** Hostile-peer caps. */
export const MAX_ENTRY_BYTES = 1 << 20
export const MAX_ENTRIES = 100_000
const MAX_BLOBS = 10_000
const MAX_NAMES = 1_000
/** The most peer identities an allow list holds. */
export const MAX_ALLOWED = 1_000

export function encodeEntry(entry: CatalogEntry): Buffer {
  const bytes = Buffer.from(JSON.stringify(entry))
  if (bytes.length > MAX_ENTRY_BYTES) throw new HypershipError(ErrorCodes.TOO_LARGE, 'catalog entry is too large')
  return bytes
}

/** Parses and checks one entry; anything malformed is the peer's fault. */
export function decodeEntry(bytes: Buffer, index: number): CatalogEntry {
  const bad = (why: string) => new HypershipError(ErrorCodes.PEER_INVALID, `catalog entry ${index} is invalid: ${why}`)
  if (bytes.length > MAX_ENTRY_BYTES) throw bad('too large')
  let e: Record<string, unknown>
  try {
    e = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>
  } catch {
    throw bad('not JSON')
  }
  if (e?.v !== 1) throw bad('unknown version')
  const names = (): string[] => {
    if (!Array.isArray(e.names) || e.names.length > MAX_NAMES) throw bad('bad names')
    return e.names.map((n) => {
      if (typeof n !== 'string') throw bad('bad name')
      try {
        return canonicalTag(n)
      } catch {
        throw bad(`bad name "${n.slice(0, 80)}"`)
      }
    })
  }
  if (e.op === 'untag') return { v: 1, op: 'untag', names: names() }
  if (e.op === 'allow') {
    if (e.peers === null) return { v: 1, op: 'allow', peers: null }
    if (!Array.isArray(e.peers) || e.peers.length > MAX_ALLOWED) throw bad('bad allow list')
    if (!e.peers.every((p): p is string => typeof p === 'string' && /^[a-f0-9]{64}$/.test(p))) throw bad('bad peer identity')
    return { v: 1, op: 'allow', peers: e.peers }
  }
  if (!isSha256(e.manifest)) throw bad('bad manifest digest')
  if (e.op === 'remove') return { v: 1, op: 'remove', manifest: e.manifest }
  if (e.op !== 'put') throw bad('unknown op')
  if (!Array.isArray(e.blobs) || e.blobs.length === 0 || e.blobs.length > MAX_BLOBS) throw bad('bad blob list')
  const blobs = e.blobs.map((b: Partial<BlobEntry>) => {
    const ok =
      isSha256(b?.digest) &&
      Number.isSafeInteger(b.size) && (b.size as number) >= 0 &&
      typeof b.key === 'string' && /^([a-f0-9]{64})?$/.test(b.key) &&
      b.blocks === Math.ceil((b.size as number) / BLOCK_SIZE) &&
      (b.key === '') === (b.size === 0)
    if (!ok) throw bad('bad blob')
    return { digest: b.digest as string, size: b.size as number, key: b.key as string, blocks: b.blocks as number }
  })
  if (!blobs.some((b) => b.digest === e.manifest)) throw bad('blob list lacks the manifest')
  return { v: 1, op: 'put', manifest: e.manifest, names: names(), blobs }
}

/** Applies entries in order and returns the images they describe now. */
export function foldCatalog(entries: CatalogEntry[]): CatalogImage[] {
  const images = new Map<string, CatalogImage>()
  const dropName = (name: string) => {
    for (const img of images.values()) img.names = img.names.filter((n) => n !== name)
  }
  for (const e of entries) {
    if (e.op === 'put') {
      for (const n of e.names) dropName(n)
      const prior = images.get(e.manifest)
      images.set(e.manifest, { manifest: e.manifest, blobs: e.blobs, names: [...new Set([...(prior?.names ?? []), ...e.names])] })
    } else if (e.op === 'untag') {
      for (const n of e.names) dropName(n)
    } else if (e.op === 'remove') {
      images.delete(e.manifest)
    }
  }
  return [...images.values()]
}

/** Who the catalog says may fetch the share: the last `allow` entry's peers (hex), or `null` for anyone. */
export function foldAudience(entries: CatalogEntry[]): Set<string> | null {
  let audience: Set<string> | null = null
  for (const e of entries) if (e.op === 'allow') audience = e.peers ? new Set(e.peers) : null
  return audience
}
