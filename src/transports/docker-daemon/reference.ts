import { ErrorCodes, HypershipError } from '../../errors.js'
import { canonicalTag, isDigest, parseReference } from '../../image/reference.js'

/** What `docker-daemon:DETAILS` names: a tagged image, or an image ID (`sha256:<64 hex>`). */
export type DaemonReference = { name: string; id?: undefined } | { id: string; name?: undefined }

/**
 * Parses the details of `docker-daemon:NAME[:TAG]` or `docker-daemon:sha256:<id>`,
 * as skopeo does: a name gets `:latest` when it has no tag; digest-pinned
 * names (`NAME@sha256:…`) and short IDs are refused (HS_ERR_BAD_REFERENCE).
 */
export function parseDaemonReference(details: string): DaemonReference {
  const bad = (why: string): HypershipError => new HypershipError(ErrorCodes.BAD_REFERENCE, `location "docker-daemon:${details}": ${why}`)
  if (details === '') throw bad('name an image: docker-daemon:NAME[:TAG] or docker-daemon:sha256:<id>')
  if (details.startsWith('sha256:')) {
    if (!isDigest(details)) throw bad('an image ID is sha256: and 64 hex digits')
    return { id: details }
  }
  if (/^[a-f0-9]{64}$/.test(details)) return { id: `sha256:${details}` }
  if (parseReference(details).digest !== undefined) throw bad('the Docker Engine names images by tag or ID here, not by digest')
  return { name: canonicalTag(details) }
}
