import { ErrorCodes, HypershipError } from '../errors.js'

/**
 * A Docker image reference, normalised the way the Docker CLI does it:
 * `ubuntu` is `docker.io/library/ubuntu:latest`, `localhost:5000/x` keeps its
 * registry and port. `toString()` round-trips through `parseReference`.
 */
export interface Reference {
  /** Registry host, with port when one was given: `docker.io`, `localhost:5000`. */
  readonly domain: string
  /** Repository path under the domain: `library/ubuntu`. */
  readonly path: string
  /** Tag, absent only when a digest was given without a tag. */
  readonly tag?: string
  /** `sha256:<hex>` when the reference pins a digest. */
  readonly digest?: string
}

const DEFAULT_DOMAIN = 'docker.io'
const LEGACY_DOMAIN = 'index.docker.io'
const DEFAULT_TAG = 'latest'

// Grammar from the distribution reference spec.
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/
const TAG = /^[\w][\w.-]{0,127}$/
const DIGEST = /^sha256:[a-f0-9]{64}$/
const DOMAIN = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?$|^\[[a-fA-F0-9:]+\](?::[0-9]+)?$/
const MAX_NAME = 255

/** Parses and normalises `NAME[:TAG][@DIGEST]`; a missing tag becomes `latest` unless a digest is given. */
export function parseReference(input: string): Reference {
  const bad = (why: string): HypershipError =>
    new HypershipError(ErrorCodes.BAD_REFERENCE, `invalid image reference "${input}": ${why}`)

  if (input.length === 0) throw bad('empty')
  if (input !== input.trim()) throw bad('surrounding whitespace')

  let rest = input
  let digest: string | undefined
  const at = rest.indexOf('@')
  if (at !== -1) {
    digest = rest.slice(at + 1)
    rest = rest.slice(0, at)
    if (!DIGEST.test(digest)) throw bad('digest must be sha256:<64 hex>')
  }

  let tag: string | undefined
  const lastColon = rest.lastIndexOf(':')
  if (lastColon > rest.lastIndexOf('/')) {
    tag = rest.slice(lastColon + 1)
    rest = rest.slice(0, lastColon)
    if (!TAG.test(tag)) throw bad(`bad tag "${tag}"`)
  }

  const { domain, path } = splitDomain(rest)
  if (domain !== DEFAULT_DOMAIN && !DOMAIN.test(domain)) throw bad(`bad registry "${domain}"`)
  for (const part of path.split('/')) {
    if (!COMPONENT.test(part)) {
      throw bad(part === '' ? 'empty path component' : `bad path component "${part}" (lowercase letters, digits and separators only)`)
    }
  }
  if (domain.length + 1 + path.length > MAX_NAME) throw bad(`longer than ${MAX_NAME} characters`)

  if (tag === undefined && digest === undefined) tag = DEFAULT_TAG
  return makeReference(domain, path, tag, digest)
}

function splitDomain(name: string): { domain: string; path: string } {
  const slash = name.indexOf('/')
  const first = slash === -1 ? '' : name.slice(0, slash)
  // as Docker 20.10 decides; newer Docker also takes an uppercase first
  // component for a host, which 20.10 then refuses to load
  const looksLikeHost = slash !== -1 && (first.includes('.') || first.includes(':') || first === 'localhost')
  let domain = looksLikeHost ? first : DEFAULT_DOMAIN
  let path = looksLikeHost ? name.slice(slash + 1) : name
  if (domain === LEGACY_DOMAIN) domain = DEFAULT_DOMAIN
  if (domain === DEFAULT_DOMAIN && !path.includes('/')) path = `library/${path}`
  return { domain, path }
}

function makeReference(domain: string, path: string, tag?: string, digest?: string): Reference {
  const ref: Reference = { domain, path, ...(tag === undefined ? {} : { tag }), ...(digest === undefined ? {} : { digest }) }
  return Object.freeze(ref)
}

/** `docker.io/library/ubuntu`: the repository part of a reference. */
export function repository(ref: Reference): string {
  return `${ref.domain}/${ref.path}`
}

/** The fully qualified form: `docker.io/library/ubuntu:latest[@sha256:…]`. */
export function formatReference(ref: Reference): string {
  let out = repository(ref)
  if (ref.tag !== undefined) out += `:${ref.tag}`
  if (ref.digest !== undefined) out += `@${ref.digest}`
  return out
}

/** The short form Docker prints: `ubuntu:latest`, `localhost:5000/x:1`. */
export function familiarName(ref: Reference): string {
  let name = repository(ref)
  if (ref.domain === DEFAULT_DOMAIN) {
    name = ref.path.startsWith('library/') ? ref.path.slice('library/'.length) : ref.path
  }
  if (ref.tag !== undefined) name += `:${ref.tag}`
  if (ref.digest !== undefined) name += `@${ref.digest}`
  return name
}

/** Parses a tagged name and returns its canonical `repo:tag` string, the key the store uses. */
export function canonicalTag(input: string): string {
  const ref = parseReference(input)
  if (ref.tag === undefined) {
    throw new HypershipError(ErrorCodes.BAD_REFERENCE, `"${input}" names a digest, not a tag`)
  }
  return `${repository(ref)}:${ref.tag}`
}

/** True when the string is a bare `sha256:<hex>` digest. */
export function isDigest(s: string): boolean {
  return DIGEST.test(s)
}

/** True for image IDs as people type them: a digest, or 12–64 hex digits with or without `sha256:`. */
export function looksLikeId(s: string): boolean {
  return /^(?:sha256:)?[a-f0-9]{12,64}$/.test(s)
}

/**
 * Parses the target of `tag`: a name with a tag, never a digest and never
 * something that reads as an image ID, as `docker tag` refuses them.
 */
export function tagTarget(input: string): string {
  if (/^sha256:/.test(input) || looksLikeId(input)) {
    throw new HypershipError(ErrorCodes.BAD_REFERENCE, `"${input}" is an image ID, not a name to tag with`)
  }
  if (parseReference(input).digest !== undefined) {
    throw new HypershipError(ErrorCodes.BAD_REFERENCE, `refusing to create a tag with a digest reference: ${input}`)
  }
  return canonicalTag(input)
}
