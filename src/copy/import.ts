import { InspectingSink } from '../archive/sink.js'
import { HypershipError, wrap } from '../errors.js'
import type { ImageSource, ReadOptions } from '../image/transport.js'
import { validateImage } from '../image/validate.js'
import { logger } from '../log.js'
import type { ImageRecord } from '../store/image-db.js'
import type { Store } from '../store/store.js'

const debug = logger('copy')

/**
 * Copies every image a source holds into the store. Every blob is hashed
 * (and checked against its descriptor) as it streams in, layers' diff_ids
 * are checked by the source against the config, and nothing is visible
 * until all of it is in: a failure leaves the store as it was.
 */
export async function importImages(store: Store, source: ImageSource, options: ReadOptions = {}): Promise<ImageRecord[]> {
  const tx = await store.beginImport()
  try {
    const sink = new InspectingSink(tx)
    const found = await source.read(sink, options)
    for (const image of found) await validateImage(tx, image.manifest, source.description, (d) => sink.result(d)?.diffId)
    const records = await tx.commit(found)
    debug('imported %d images from %s', records.length, source.description)
    return records
  } catch (err) {
    await tx.abort().catch(() => {})
    throw err instanceof HypershipError ? err : wrap(err, `importing ${source.description}`)
  }
}
