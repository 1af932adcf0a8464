import { importImages } from '../copy/import.js'
import type { ImageRecord } from '../store/image-db.js'
import type { Store } from '../store/store.js'
import { openSource, parseLocation } from '../transports/location.js'

/**
 * Turns a SOURCE argument into stored images: a store name or digest
 * resolves in place; an archive or layout is imported first.
 */
export async function storedImages(store: Store, source: string): Promise<ImageRecord[]> {
  const location = await parseLocation(source)
  if (location.kind === 'store') return [await store.resolve(location.reference)]
  return importImages(store, openSource(location))
}
