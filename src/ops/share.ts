import type { Seeder } from '../p2p/seeder.js'
import { Share } from '../p2p/share.js'
import type { ImageRecord } from '../store/image-db.js'
import type { Store } from '../store/store.js'
import type { EngineOptions } from '../transports/location.js'
import { storedImages } from './images.js'

/**
 * Imports the sources, publishes them in a new share (or in the store's
 * share `add`), and serves it on the seeder's swarm. A name the store
 * lacks is imported from the Docker Engine `engine` points at.
 */
export async function shareImages(
  store: Store,
  seeder: Seeder,
  sources: string[],
  add?: string,
  engine: EngineOptions = {}
): Promise<{ key: string; images: ImageRecord[] }> {
  const images: ImageRecord[] = []
  for (const source of sources) {
    for (const rec of await storedImages(store, source, engine)) {
      if (!images.some((i) => i.digest === rec.digest)) images.push(rec)
    }
  }
  const share = add ? await Share.open(store, add) : await Share.create(store)
  await share.publish(images)
  await seeder.seed(share.catalog)
  return { key: share.record.key, images }
}
