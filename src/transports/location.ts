import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import { Budget, DEFAULT_LIMITS } from '../archive/limits.js'
import { openArchiveFile, sniffFile } from '../archive/open.js'
import { scanTarNames } from '../archive/tar-scan.js'
import { walkTar } from '../archive/tar-walk.js'
import { ErrorCodes, HypershipError } from '../errors.js'
import { canonicalTag } from '../image/reference.js'
import type { ImageDestination, ImageSource } from '../image/transport.js'
import { DockerArchiveDestination } from './docker-archive/destination.js'
import { DockerArchiveSource } from './docker-archive/source.js'
import { DockerDaemonDestination } from './docker-daemon/destination.js'
import { Engine } from './docker-daemon/engine.js'
import { type DaemonReference, parseDaemonReference } from './docker-daemon/reference.js'
import { DockerDaemonSource } from './docker-daemon/source.js'
import { OciLayoutDestination } from './oci-layout/destination.js'
import { OciLayoutSource } from './oci-layout/source.js'

/** Where images are read from or written to, as the user named it. */
export type Location =
  | { kind: 'docker-archive'; path: string; name?: string }
  | { kind: 'oci-archive'; path: string; ref?: string }
  | { kind: 'oci'; path: string; ref?: string }
  | { kind: 'store'; reference: string }
  /** `docker-daemon:NAME[:TAG]`, `docker-daemon:sha256:<id>`; bare `docker-daemon:` (destinations only) keeps the images' names. */
  | { kind: 'docker-daemon'; reference?: DaemonReference; text: string }

/** How to reach the Docker Engine for `docker-daemon:` locations. */
export interface EngineOptions {
  /** A Docker host (`unix:///…`, `tcp://…`); default DOCKER_HOST, then the default socket. */
  dockerHost?: string
}

/** The file kinds hypership reads and writes. */
export type FileKind = 'docker-archive' | 'oci-archive' | 'oci'

const PREFIXES: FileKind[] = ['docker-archive', 'oci-archive', 'oci']

/** True when `input` starts with a transport name hypership knows (`oci:`, `docker-daemon:`…). */
export function hasPrefix(input: string): boolean {
  return /^(docker-archive|oci-archive|oci|docker-daemon):/.test(input)
}

function bad(input: string, why: string): HypershipError {
  return new HypershipError(ErrorCodes.BAD_REFERENCE, `location "${input}": ${why}`)
}

/** Splits `PATH[:SUFFIX]` at the first colon, as skopeo does. */
function withSuffix(kind: FileKind, input: string, rest: string): Location {
  const colon = rest.indexOf(':')
  const path = colon === -1 ? rest : rest.slice(0, colon)
  const suffix = colon === -1 ? undefined : rest.slice(colon + 1)
  if (path === '') throw bad(input, 'no path')
  if (suffix === '') throw bad(input, 'empty name after the path')
  if (kind === 'docker-archive') {
    if (suffix !== undefined) canonicalTag(suffix)
    return { kind, path, ...(suffix === undefined ? {} : { name: suffix }) }
  }
  return { kind, path, ...(suffix === undefined ? {} : { ref: suffix }) }
}

async function statOrUndefined(path: string): Promise<Awaited<ReturnType<typeof stat>> | undefined> {
  return stat(path).catch(() => undefined)
}

/** Names of a tar's entries; compressed archives are streamed through their decompressor. */
async function tarNames(path: string): Promise<string[]> {
  if ((await sniffFile(path)) === 'none') return scanTarNames(path)
  const names: string[] = []
  await walkTar(await openArchiveFile(path), path, new Budget(DEFAULT_LIMITS), async (entry) => {
    names.push(entry.path)
  })
  return names
}

/**
 * Decides what an existing path holds: a directory with `oci-layout` is an
 * OCI layout; a tar with manifest.json is a docker-archive, one with
 * index.json and oci-layout an oci-archive (gzip/zstd tars too).
 */
export async function sniffPath(path: string): Promise<FileKind> {
  const info = await statOrUndefined(path)
  if (info === undefined) throw new HypershipError(ErrorCodes.IO, `${path}: no such file or directory`)
  if (info.isDirectory()) {
    if ((await statOrUndefined(join(path, 'oci-layout')))?.isFile() === true) return 'oci'
    throw new HypershipError(ErrorCodes.BAD_ARCHIVE, `${path}: a directory without an oci-layout file`)
  }
  const names = new Set(await tarNames(path))
  if (names.has('manifest.json')) return 'docker-archive'
  if (names.has('index.json') && names.has('oci-layout')) return 'oci-archive'
  throw new HypershipError(ErrorCodes.BAD_ARCHIVE, `${path}: neither a docker-archive nor an OCI archive`)
}

/**
 * Parses `docker-archive:PATH[:NAME[:TAG]]`, `oci-archive:PATH[:REF]`,
 * `oci:DIR[:REF]` or `docker-daemon:NAME[:TAG]` / `docker-daemon:sha256:ID`.
 * A bare existing path is sniffed; anything else is taken as the name of an
 * image in the store, which the caller resolves.
 */
export async function parseLocation(input: string): Promise<Location> {
  if (input.startsWith('docker-daemon:')) {
    const text = input.slice('docker-daemon:'.length)
    return text === '' ? { kind: 'docker-daemon', text } : { kind: 'docker-daemon', reference: parseDaemonReference(text), text }
  }
  for (const kind of PREFIXES) {
    if (input.startsWith(`${kind}:`)) return withSuffix(kind, input, input.slice(kind.length + 1))
  }
  if (input === '') throw bad(input, 'empty')
  if ((await statOrUndefined(input)) !== undefined) return { kind: await sniffPath(input), path: input }
  // image names never start like a path or end in an archive extension
  if (/^(\/|\.\.?\/|~)/.test(input) || /\.(tar|tgz|tar\.gz|tar\.zst)$/.test(input)) {
    throw new HypershipError(ErrorCodes.IO, `${input}: no such file or directory`)
  }
  return { kind: 'store', reference: input }
}

function notStore(loc: Location): Exclude<Location, { kind: 'store' }> {
  if (loc.kind === 'store') {
    throw new HypershipError(ErrorCodes.BAD_REFERENCE, `"${loc.reference}" is not a file or directory; it names a store image`)
  }
  return loc
}

/** An ImageSource for a parsed docker-archive, oci-archive, oci or docker-daemon location (not a store name). */
export function openSource(location: Location, engine: EngineOptions = {}): ImageSource {
  const loc = notStore(location)
  if (loc.kind === 'docker-daemon') {
    if (loc.reference === undefined) throw bad('docker-daemon:', 'name an image: docker-daemon:NAME[:TAG] or docker-daemon:sha256:<id>')
    return new DockerDaemonSource(new Engine(engine.dockerHost), loc.reference, loc.text)
  }
  if (loc.kind === 'docker-archive') return new DockerArchiveSource(loc.path, loc.name)
  return new OciLayoutSource(loc.path, loc.kind === 'oci' ? 'dir' : 'archive', loc.ref)
}

/**
 * An ImageDestination for a docker-archive, oci-archive or oci location. A
 * bare path that does not exist yet is a docker-archive when it ends in
 * `.tar`, an OCI directory when it ends in `/`.
 */
export async function openDestination(location: string | Location, engine: EngineOptions = {}): Promise<ImageDestination> {
  let loc: Exclude<Location, { kind: 'store' }>
  if (typeof location === 'string' && !hasPrefix(location) && (await statOrUndefined(location)) === undefined) {
    if (location.endsWith('.tar')) loc = { kind: 'docker-archive', path: location }
    else if (location.endsWith('/')) loc = { kind: 'oci', path: location.replace(/\/+$/, '') }
    else throw bad(location, 'say docker-archive:, oci-archive:, oci: or docker-daemon: to create a new file or load into Docker')
  } else {
    loc = notStore(typeof location === 'string' ? await parseLocation(location) : location)
  }
  if (loc.kind === 'docker-daemon') {
    if (loc.reference?.id !== undefined) throw bad(`docker-daemon:${loc.text}`, 'an image ID cannot be a destination; name it NAME[:TAG]')
    return new DockerDaemonDestination(new Engine(engine.dockerHost), loc.reference?.name)
  }
  if (loc.kind === 'docker-archive') return new DockerArchiveDestination(loc.path, loc.name)
  return new OciLayoutDestination(loc.path, loc.kind === 'oci' ? 'dir' : 'archive', loc.ref)
}
