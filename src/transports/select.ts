import { ErrorCodes, HypershipError } from '../errors.js'
import { canonicalTag, isDigest } from '../image/reference.js'

/** An image a source found, before selection. */
export interface Candidate {
  names: string[]
  configDigest: string
  manifestDigest: string
}

/**
 * Keeps the images `select` asks for (canonical names or config/manifest
 * digests). An image picked by name keeps only the names asked for; one
 * picked by digest keeps all its names. A selector that matches nothing gives
 * HS_ERR_IMAGE_NOT_FOUND. Without `select`, everything is kept.
 */
export function selectImages<T extends Candidate>(found: T[], select: string[] | undefined, what: string): T[] {
  if (select === undefined || select.length === 0) return found

  const picked = new Map<T, Set<string> | 'all'>()
  for (const wanted of select) {
    let hit = false
    const byDigest = isDigest(wanted)
    const name = byDigest ? '' : canonicalTag(wanted)
    for (const image of found) {
      if (byDigest ? image.configDigest === wanted || image.manifestDigest === wanted : image.names.includes(name)) {
        hit = true
        const prev = picked.get(image)
        if (byDigest || prev === 'all') picked.set(image, 'all')
        else picked.set(image, new Set([...(prev ?? []), name]))
      }
    }
    if (!hit) throw new HypershipError(ErrorCodes.IMAGE_NOT_FOUND, `${what}: no image ${wanted}`)
  }
  return found
    .filter((image) => picked.has(image))
    .map((image) => {
      const keep = picked.get(image)
      return keep === 'all' || keep === undefined ? image : { ...image, names: image.names.filter((n) => keep.has(n)) }
    })
}
