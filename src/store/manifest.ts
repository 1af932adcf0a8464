import { sha256 } from '../image/digest.js'
import { type Manifest, MediaTypes } from '../image/types.js'
import type { ImageRecord } from './image-db.js'

export { MAX_METADATA, parseManifest } from '../image/manifest.js'

/** Builds the summary the store keeps for an image. */
export function summarize(bytes: Buffer, manifest: Manifest, tags: string[]): ImageRecord {
  const digest = sha256(bytes)
  const layers = manifest.layers.map((l) => l.digest)
  return {
    digest,
    config: manifest.config.digest,
    mediaType: manifest.mediaType ?? MediaTypes.ociManifest,
    blobs: [...new Set([digest, manifest.config.digest, ...layers])],
    size: manifest.config.size + manifest.layers.reduce((n, l) => n + l.size, 0),
    tags,
    added: new Date().toISOString()
  }
}
