import { ErrorCodes, HypershipError } from '../errors.js'
import { parseReference, repository } from '../image/reference.js'

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/
const TAG = /^[\w][\w.-]{0,127}$/
const MAX_NAME = 255

/**
 * The store repository a registry name stands for, as Docker would name it
 * without the registry host: `app` is `docker.io/library/app`, `team/app`
 * is `docker.io/team/app`, `ghcr.io/x/y` stays `ghcr.io/x/y`.
 */
export function storeRepository(name: string): string {
  if (name.length > MAX_NAME || !name.split('/').every((c) => COMPONENT.test(c))) {
    throw new HypershipError(ErrorCodes.BAD_REFERENCE, `invalid repository name "${name.slice(0, 100)}"`)
  }
  return repository(parseReference(name))
}

/** The canonical store tag (`docker.io/library/app:v1`) for a registry name and tag. */
export function storeTag(name: string, tag: string): string {
  if (!TAG.test(tag)) throw new HypershipError(ErrorCodes.BAD_REFERENCE, `invalid tag "${tag.slice(0, 130)}"`)
  return `${storeRepository(name)}:${tag}`
}

/**
 * The registry name and tag under which a store tag is served, or undefined
 * for names a registry path cannot spell (a host with a port).
 */
export function registryName(storeTagName: string): { name: string; tag: string } | undefined {
  const colon = storeTagName.lastIndexOf(':')
  const repo = storeTagName.slice(0, colon)
  const tag = storeTagName.slice(colon + 1)
  const slash = repo.indexOf('/')
  const domain = repo.slice(0, slash)
  const path = repo.slice(slash + 1)
  if (domain === 'docker.io') return { name: path.startsWith('library/') ? path.slice('library/'.length) : path, tag }
  if (domain.includes(':')) return undefined
  return { name: repo, tag }
}
