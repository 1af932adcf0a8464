import { ErrorCodes, HypershipError } from '../errors.js'
import { isSha256 } from './digest.js'
import { type Manifest, isManifestType } from './types.js'

/** Manifests and configs larger than this are refused as hostile. */
export const MAX_METADATA = 4 << 20

/** Parses manifest bytes, checking the fields hypership relies on. */
export function parseManifest(bytes: Buffer, what: string): Manifest {
  let m: Manifest
  try {
    m = JSON.parse(bytes.toString('utf8')) as Manifest
  } catch (err) {
    throw new HypershipError(ErrorCodes.BAD_MANIFEST, `manifest ${what} is not valid JSON`, { cause: err })
  }
  const descOk = (d: unknown): boolean => {
    const x = d as { digest?: unknown; size?: unknown; mediaType?: unknown } | null
    return !!x && isSha256(x.digest) && Number.isSafeInteger(x.size) && (x.size as number) >= 0 && typeof x.mediaType === 'string'
  }
  if (m?.schemaVersion !== 2 || !descOk(m.config) || !Array.isArray(m.layers) || !m.layers.every(descOk)) {
    throw new HypershipError(ErrorCodes.BAD_MANIFEST, `manifest ${what} is not an image manifest`)
  }
  if (m.mediaType !== undefined && !isManifestType(m.mediaType)) {
    throw new HypershipError(ErrorCodes.UNSUPPORTED, `manifest ${what} has media type ${m.mediaType}`)
  }
  return m
}
