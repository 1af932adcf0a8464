import { ErrorCodes, HypershipError } from '../errors.js'
import { decodePeerId, encodePeerId } from '../p2p/identity.js'
import type { Seeder } from '../p2p/seeder.js'
import { Share } from '../p2p/share.js'
import type { ImageRecord } from '../store/image-db.js'
import type { Store } from '../store/store.js'
import type { EngineOptions } from '../transports/location.js'
import { storedImages } from './images.js'

/** Options of `share`. */
export interface ShareOptions {
  /** Add to this existing share of the store (its key) instead of creating one. */
  add?: string
  /**
   * Limit the share to these peer identities (z-base32 or hex, as `hypership
   * id` prints), replacing any earlier list; `['*']` opens it to anyone with
   * the key again. Absent: a new share is open, an existing one keeps its list.
   */
  allow?: string[]
}

/** What `share` did. */
export interface ShareResult {
  key: string
  images: ImageRecord[]
  /** The identities the share is limited to (z-base32, the sharer's own first), or null when anyone with the key may fetch it. */
  allow: string[] | null
  /** For a rotation: the key that is no longer served. */
  replaced?: string
}

/**
 * Imports the sources, publishes them in a new share (or in the store's
 * share `add`), and serves it on the seeder's swarm. A name the store
 * lacks is imported from the Docker Engine `engine` points at.
 */
export async function shareImages(store: Store, seeder: Seeder, sources: string[], options: ShareOptions & EngineOptions = {}): Promise<ShareResult> {
  if (sources.length === 0 && !(options.add && options.allow)) {
    throw new HypershipError(ErrorCodes.BAD_REFERENCE, 'name the images to share (only `--add KEY --allow …` may omit them)')
  }
  const audience = options.allow ? parseAllow(options.allow, seeder) : undefined
  const images: ImageRecord[] = []
  for (const source of sources) {
    for (const rec of await storedImages(store, source, options)) {
      if (!images.some((i) => i.digest === rec.digest)) images.push(rec)
    }
  }
  const share = options.add ? await Share.open(store, options.add) : await Share.create(store)
  await share.publish(images, audience !== undefined ? audience : options.add ? undefined : null)
  const { audience: now } = await share.contents()
  await seeder.seed(share.catalog)
  return { key: share.record.key, images, allow: describe(now) }
}

/**
 * Rotates a share of this store: a new key with the same images (as the
 * catalog lists them now) and the same allow list (or `allow`), served from
 * now on; the old key is forgotten and no longer served here. Receivers
 * that hold the old share keep what they have (see docs/security.md).
 */
export async function rotateShare(store: Store, seeder: Seeder, key: string, allow?: string[]): Promise<ShareResult> {
  const old = await Share.open(store, key)
  let fresh: Share | undefined
  try {
    const { images, audience } = await old.contents()
    fresh = await Share.create(store)
    const next = allow ? parseAllow(allow, seeder) : audience ? [...audience] : null
    await fresh.republish(images, next)
    await old.forget()
  } catch (err) {
    await fresh?.forget()
    await fresh?.close()
    throw err
  } finally {
    await old.close()
  }
  await seeder.unseed(key)
  await seeder.seed(fresh.catalog)
  const records = []
  for (const img of (await fresh.contents()).images) {
    const rec = await store.resolve(img.manifest).catch(() => undefined)
    if (rec) records.push(rec)
  }
  return { key: fresh.record.key, images: records, allow: describe((await fresh.contents()).audience), replaced: key }
}

/** Decodes an --allow list into hex keys, with the sharer's own identity first; null for `*`. */
function parseAllow(allow: string[], seeder: Seeder): string[] | null {
  const items = allow.flatMap((a) => a.split(',')).map((a) => a.trim()).filter(Boolean)
  if (items.includes('*')) {
    if (items.length > 1) throw new HypershipError(ErrorCodes.BAD_REFERENCE, '--allow takes either `*` or peer identities, not both')
    return null
  }
  if (items.length === 0) throw new HypershipError(ErrorCodes.BAD_REFERENCE, '--allow needs at least one peer identity (or `*` for anyone)')
  const own = seeder.swarm.keyPair.publicKey.toString('hex')
  return [own, ...items.map((i) => decodePeerId(i).toString('hex')).filter((k) => k !== own)]
}

function describe(audience: Set<string> | null): string[] | null {
  return audience ? [...audience].map((hex) => encodePeerId(Buffer.from(hex, 'hex'))) : null
}
