import { ErrorCodes, HypershipError } from '../errors.js'
import { MAX_METADATA, parseManifest } from './manifest.js'
import type { ImageConfig, Manifest } from './types.js'
import { MediaTypes } from './types.js'

/** What validation needs: bounded reads of blobs by digest. */
export interface BlobBytes {
  readBytes(digest: string, max: number): Promise<Buffer>
}

const UNCOMPRESSED = new Set<string>([MediaTypes.ociLayer, MediaTypes.dockerLayer])

/**
 * Checks an image's invariants from its manifest: the config parses, has as
 * many diff_ids as the manifest has layers, every uncompressed layer's
 * digest is its diff_id, and every layer whose uncompressed digest
 * `diffIdOf` knows (measured while the bytes streamed in) matches the
 * config. Blob digests and sizes are checked where the bytes enter the store.
 */
export async function validateImage(
  blobs: BlobBytes,
  manifestBytes: Buffer,
  what: string,
  diffIdOf: (digest: string) => string | undefined = () => undefined
): Promise<{ manifest: Manifest; config: ImageConfig }> {
  const manifest = parseManifest(manifestBytes, what)
  const raw = await blobs.readBytes(manifest.config.digest, MAX_METADATA)
  let config: ImageConfig
  try {
    config = JSON.parse(raw.toString('utf8')) as ImageConfig
  } catch (err) {
    throw new HypershipError(ErrorCodes.BAD_MANIFEST, `config ${manifest.config.digest} of ${what} is not valid JSON`, { cause: err })
  }
  const diffIds = config?.rootfs?.diff_ids
  if (!Array.isArray(diffIds) || diffIds.length !== manifest.layers.length) {
    throw new HypershipError(
      ErrorCodes.DIFF_ID_MISMATCH,
      `image ${what} has ${manifest.layers.length} layers but its config lists ${Array.isArray(diffIds) ? diffIds.length : 'no'} diff_ids`
    )
  }
  manifest.layers.forEach((layer, i) => {
    if (UNCOMPRESSED.has(layer.mediaType) && layer.digest !== diffIds[i]) {
      throw new HypershipError(ErrorCodes.DIFF_ID_MISMATCH, `layer ${i} of ${what}: digest ${layer.digest} is not its diff_id ${diffIds[i]}`)
    }
    const measured = diffIdOf(layer.digest)
    if (measured !== undefined && measured !== diffIds[i]) {
      throw new HypershipError(
        ErrorCodes.DIFF_ID_MISMATCH,
        `layer ${i} of ${what} (${layer.digest}) uncompresses to ${measured}, but the config says ${diffIds[i]}`
      )
    }
  })
  return { manifest, config }
}
