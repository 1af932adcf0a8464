import b4a from 'b4a'
import crypto from 'hypercore-crypto'
import { logger } from '../log.js'
import { readSeedList } from '../p2p/seed-list.js'
import { listShares } from '../p2p/share.js'
import { decodeShareKey } from '../p2p/share-key.js'
import type { Store } from '../store/store.js'

const debug = logger('store')

/** What `gc` reclaimed. */
export interface GcReport {
  /** Blob index entries dropped because no image uses them. */
  blobs: number
  /** Cores purged: unused blobs, partial downloads, leftovers. */
  cores: number
}

/**
 * Reclaims space: drops indexed blobs no image uses, then purges every core
 * that is neither an indexed blob, nor a share this store owns, nor a share
 * it seeds. Partial downloads are purged too, so an interrupted receive
 * starts over afterwards. Run it when nothing is being received.
 */
export async function collectGarbage(store: Store): Promise<GcReport> {
  const used = new Set((await store.images()).flatMap((i) => i.blobs))
  // indexes kept whole (registry pushes) are blobs no image names
  for (const digest of Object.keys(await store.indexes.read())) used.add(digest)
  let blobs = 0
  const keep = new Set<string>()
  for (const digest of await store.blobs.list()) {
    const entry = await store.blobs.get(digest)
    if (!used.has(digest)) {
      await store.blobs.unindex(digest)
      blobs++
    } else if (entry?.key) {
      keep.add(b4a.toString(crypto.discoveryKey(Buffer.from(entry.key, 'hex')), 'hex'))
    }
  }
  const catalogs = [...(await listShares(store)).map((s) => s.key), ...(await readSeedList(store))]
  for (const key of catalogs) keep.add(b4a.toString(crypto.discoveryKey(decodeShareKey(key)), 'hex'))
  let cores = 0
  const all: Buffer[] = []
  for await (const dk of store.blobs.cores.list()) all.push(dk as Buffer)
  for (const dk of all) {
    if (keep.has(b4a.toString(dk, 'hex'))) continue
    await store.blobs.purgeCore({ discoveryKey: b4a.toString(dk, 'hex') })
    cores++
  }
  debug('gc dropped %d blob index entries and %d cores', blobs, cores)
  return { blobs, cores }
}
