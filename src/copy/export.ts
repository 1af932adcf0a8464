import type { ImageDestination, ImageToWrite } from '../image/transport.js'
import type { ImageRecord } from '../store/image-db.js'
import type { Store } from '../store/store.js'

/**
 * Writes stored images to a destination (an archive, a layout). Blobs
 * stream out of their cores and are re-verified on the way.
 */
export async function exportImages(store: Store, records: ImageRecord[], destination: ImageDestination, names?: string[][]): Promise<void> {
  const images: ImageToWrite[] = []
  for (const [i, rec] of records.entries()) {
    const { manifest, bytes } = await store.manifest(rec)
    images.push({ names: names?.[i] ?? rec.tags, manifestDigest: rec.digest, manifest, manifestBytes: bytes })
  }
  await destination.write(images, store.blobs)
}
