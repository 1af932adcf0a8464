import { basename } from 'node:path'
import { canonicalTag, parseReference } from '../../image/reference.js'
import type { Descriptor } from '../../image/types.js'
import { logger } from '../../log.js'

const log = logger('image')

/** Annotation containerd (and hypership) put the full image name in. */
export const CONTAINERD_NAME = 'io.containerd.image.name'
/** The OCI annotation for a reference name: usually a tag, sometimes a full name. */
export const REF_NAME = 'org.opencontainers.image.ref.name'

const TAG = /^[\w][\w.-]{0,127}$/
const EXTENSIONS = /(\.(tar|tgz|gz|zst|oci|docker|layout))+$/i

/** A repository name derived from a layout's file or directory name: `busybox.oci.tar` → `busybox`. */
export function layoutRepository(location: string): string | undefined {
  const base = basename(location.replace(/\/+$/, '')).replace(EXTENSIONS, '')
  const repo = base
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[._-]+|[._-]+$/g, '')
  return repo === '' ? undefined : repo
}

/** True when `refName` is a full `repo:tag` reference rather than a bare tag. */
function isFullReference(refName: string): boolean {
  if (!refName.includes('/') && !refName.includes(':')) return false
  try {
    return parseReference(refName).tag !== undefined && !refName.includes('@')
  } catch {
    return false
  }
}

/**
 * The canonical names of an index entry: the containerd name annotation,
 * else a ref.name that is a full reference, else `<layout name>:<ref.name>`.
 * An entry with none of these is untagged (`[]`).
 */
export function namesFor(desc: Descriptor, location: string): string[] {
  const ann = desc.annotations ?? {}
  const full = ann[CONTAINERD_NAME]
  if (full !== undefined) return [canonicalTag(full)]

  const ref = ann[REF_NAME]
  if (ref === undefined) return []
  if (isFullReference(ref)) return [canonicalTag(ref)]

  const repo = layoutRepository(location)
  if (repo === undefined || !TAG.test(ref)) {
    log('%s: cannot make a name from ref.name %o; treating the image as untagged', location, ref)
    return []
  }
  try {
    return [canonicalTag(`${repo}:${ref}`)]
  } catch {
    log('%s: %s:%s is not a valid name; treating the image as untagged', location, repo, ref)
    return []
  }
}
