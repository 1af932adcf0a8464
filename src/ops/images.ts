import { mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { exportImages } from '../copy/export.js'
import { importImages } from '../copy/import.js'
import { canonicalTag, looksLikeId } from '../image/reference.js'
import type { ImageRecord } from '../store/image-db.js'
import type { Store } from '../store/store.js'
import { loadArchive } from '../transports/docker-daemon/engine.js'
import { type Location, openDestination, openSource, parseLocation } from '../transports/location.js'
import { ensureSpace, pathSize } from '../store/space.js'

/**
 * The operations behind the CLI, on an open store. The CLI runs them in
 * its own process, or asks a running daemon (which owns the store) to.
 */

/**
 * Turns a SOURCE into stored images: a store name or digest resolves in
 * place; an archive or layout is imported first.
 */
export async function storedImages(store: Store, source: string): Promise<ImageRecord[]> {
  const location = await parseLocation(source)
  if (location.kind !== 'store') return importFrom(store, location)
  // only the name asked for travels, never the image's other (private) tags;
  // an image named by ID travels untagged, as `docker save <id>` writes it
  const rec = await store.resolve(location.reference)
  return [{ ...rec, tags: looksLikeId(location.reference) ? [] : [canonicalTag(location.reference)] }]
}

/** `load -i`: imports an archive or layout (never a store name). */
export async function loadImages(store: Store, input: string): Promise<ImageRecord[]> {
  return importFrom(store, await parseLocation(input))
}

async function importFrom(store: Store, location: Exclude<Location, { kind: 'store' }> | Location): Promise<ImageRecord[]> {
  if (location.kind !== 'store') {
    // a large blob sits in a spill file while its core is written
    await ensureSpace(store.layout.root, 2 * (await pathSize(location.path)), `importing ${location.path}`)
  }
  return importImages(store, openSource(location))
}

/**
 * `save`: writes images to a destination (a bare path is a docker-archive).
 * Like `docker save`, a name saves that tag and an ID saves no tag.
 */
export async function saveImages(store: Store, inputs: string[], output: string): Promise<ImageRecord[]> {
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
  const dest = /^(docker-archive|oci-archive|oci):/.test(output) ? output : `docker-archive:${output}`
  await exportImages(store, records, await openDestination(dest), names)
  return records
}

/**
 * Loads stored images into a Docker Engine through its API (streamed from a
 * temporary docker-archive in the store, removed afterwards). Returns the
 * engine's "Loaded image" lines.
 */
export async function loadIntoDocker(store: Store, records: ImageRecord[], socketPath: string): Promise<string[]> {
  await mkdir(store.layout.tmp, { recursive: true })
  const archive = join(store.layout.tmp, `load-${process.pid}-${Date.now()}.tar`)
  try {
    await exportImages(store, records, await openDestination(`docker-archive:${archive}`))
    return await loadArchive(archive, socketPath)
  } finally {
    await rm(archive, { force: true })
  }
}
