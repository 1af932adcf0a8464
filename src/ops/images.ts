import { exportImages } from '../copy/export.js'
import { importImages } from '../copy/import.js'
import { ErrorCodes, HypershipError, hasCode } from '../errors.js'
import { canonicalTag, looksLikeId } from '../image/reference.js'
import type { ImageRecord } from '../store/image-db.js'
import type { Store } from '../store/store.js'
import { DockerDaemonDestination } from '../transports/docker-daemon/destination.js'
import { Engine } from '../transports/docker-daemon/engine.js'
import type { DaemonReference } from '../transports/docker-daemon/reference.js'
import { DockerDaemonSource } from '../transports/docker-daemon/source.js'
import { type EngineOptions, type Location, hasPrefix, openDestination, openSource, parseLocation } from '../transports/location.js'
import { ensureSpace, pathSize } from '../store/space.js'

/**
 * The operations behind the CLI, on an open store. The CLI runs them in
 * its own process, or asks a running daemon (which owns the store) to.
 */

/**
 * Turns a SOURCE into stored images: a store name or digest resolves in
 * place; an archive, layout or `docker-daemon:` image is imported first. A
 * name or ID the store lacks is looked up in the Docker Engine and imported
 * from there; HS_ERR_IMAGE_NOT_FOUND says where it looked.
 */
export async function storedImages(store: Store, source: string, engine: EngineOptions = {}): Promise<ImageRecord[]> {
  const location = await parseLocation(source)
  if (location.kind !== 'store') return importFrom(store, location, engine)
  // only the name asked for travels, never the image's other (private) tags;
  // an image named by ID travels untagged, as `docker save <id>` writes it
  const tags = looksLikeId(location.reference) ? [] : [canonicalTag(location.reference)]
  let records: ImageRecord[]
  try {
    records = [await store.resolve(location.reference)]
  } catch (err) {
    if (!hasCode(err, ErrorCodes.IMAGE_NOT_FOUND)) throw err
    records = await fromDocker(store, location.reference, engine)
  }
  return records.map((rec) => ({ ...rec, tags }))
}

/** Imports `reference` (a name or an image ID, short ones too) from the Docker Engine, saying where it looked when it is nowhere. */
async function fromDocker(store: Store, reference: string, options: EngineOptions): Promise<ImageRecord[]> {
  const engine = new Engine(options.dockerHost)
  const nowhere = (why: string): HypershipError =>
    new HypershipError(ErrorCodes.IMAGE_NOT_FOUND, `no image ${reference} in the hypership store (${store.layout.root}), ${why}`)
  let found: Awaited<ReturnType<Engine['inspect']>>
  try {
    found = await engine.inspect(reference)
  } catch (err) {
    if (hasCode(err, ErrorCodes.NO_ENGINE)) throw nowhere(`and no Docker Engine answers at ${engine.host} to look in`)
    throw err
  }
  if (found === undefined) throw nowhere(`nor in the Docker Engine at ${engine.host}`)
  const ref: DaemonReference = looksLikeId(reference) ? { id: found.Id } : { name: canonicalTag(reference) }
  return importFromEngine(store, engine, ref, looksLikeId(reference) ? found.Id : reference, found.Size)
}

async function importFromEngine(store: Store, engine: Engine, ref: DaemonReference, text: string, size?: number): Promise<ImageRecord[]> {
  const source = new DockerDaemonSource(engine, ref, text)
  if (size === undefined) {
    const info = await engine.inspect(ref.id ?? text)
    if (info === undefined) throw new HypershipError(ErrorCodes.IMAGE_NOT_FOUND, `the Docker Engine at ${engine.host} has no image ${text}`)
    size = info.Size
  }
  // the engine's size is uncompressed, as its layers arrive; a large blob also sits in a spill file
  await ensureSpace(store.layout.root, 2 * size, `importing ${source.description}`)
  return importImages(store, source)
}

/** `load -i`: imports an archive, layout or `docker-daemon:` image (never a store name). */
export async function loadImages(store: Store, input: string, engine: EngineOptions = {}): Promise<ImageRecord[]> {
  return importFrom(store, await parseLocation(input), engine)
}

async function importFrom(store: Store, location: Location, engine: EngineOptions): Promise<ImageRecord[]> {
  if (location.kind === 'docker-daemon' && location.reference !== undefined) {
    return importFromEngine(store, new Engine(engine.dockerHost), location.reference, location.text)
  }
  if (location.kind !== 'store' && location.kind !== 'docker-daemon') {
    // a large blob sits in a spill file while its core is written
    await ensureSpace(store.layout.root, 2 * (await pathSize(location.path)), `importing ${location.path}`)
  }
  return importImages(store, openSource(location, engine))
}

/**
 * `save`: writes images to a destination (a bare path is a docker-archive;
 * `docker-daemon:[NAME[:TAG]]` loads them into the Docker Engine).
 * Like `docker save`, a name saves that tag and an ID saves no tag.
 */
export async function saveImages(store: Store, inputs: string[], output: string, engine: EngineOptions = {}): Promise<ImageRecord[]> {
  const records: ImageRecord[] = []
  const names: string[][] = []
  for (const input of inputs) {
    const rec = await store.resolve(input)
    const tags = looksLikeId(input) ? [] : [canonicalTag(input)]
    const i = records.findIndex((r) => r.digest === rec.digest)
    if (i === -1) {
      records.push(rec)
      names.push(tags)
    } else {
      names[i] = [...new Set([...(names[i] ?? []), ...tags])]
    }
  }
  const dest = hasPrefix(output) ? output : `docker-archive:${output}`
  await exportImages(store, records, await openDestination(dest, engine), names)
  return records
}

/**
 * Loads stored images into a Docker Engine through its API, with their
 * tags, streaming a docker-archive built on the fly (no temporary file).
 * Returns the engine's "Loaded image" lines.
 */
export async function loadIntoDocker(store: Store, records: ImageRecord[], dockerHost?: string): Promise<string[]> {
  const destination = new DockerDaemonDestination(new Engine(dockerHost))
  await exportImages(store, records, destination)
  return destination.loaded
}
