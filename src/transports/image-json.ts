import { ErrorCodes, HypershipError } from '../errors.js'
import { isSha256 } from '../image/digest.js'
import type { Descriptor, ImageConfig, Index, Manifest } from '../image/types.js'

/** Parsing and writing the JSON documents that archives and layouts carry. */

function bad(what: string, why: string, cause?: unknown): HypershipError {
  return new HypershipError(ErrorCodes.BAD_MANIFEST, `${what}: ${why}`, cause === undefined ? undefined : { cause })
}

/** Parses JSON bytes; HS_ERR_BAD_MANIFEST when they are not JSON. */
export function parseJson(bytes: Buffer, what: string): unknown {
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown
  } catch (err) {
    throw bad(what, `not valid JSON (${(err as Error).message})`, err)
  }
}

/** True for a plain JSON object. */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** Checks a descriptor's shape: media type, sha256 digest, non-negative integer size. */
export function checkDescriptor(v: unknown, what: string): Descriptor {
  if (!isObject(v)) throw bad(what, 'descriptor is not an object')
  if (typeof v.mediaType !== 'string') throw bad(what, 'descriptor has no mediaType')
  if (!isSha256(v.digest)) throw bad(what, `descriptor digest ${JSON.stringify(v.digest)} is not sha256:<hex>`)
  if (typeof v.size !== 'number' || !Number.isSafeInteger(v.size) || v.size < 0) {
    throw bad(what, `descriptor size ${JSON.stringify(v.size)} is not a byte count`)
  }
  return v as unknown as Descriptor
}

/** Parses an image manifest (OCI or Docker schema 2). */
export function parseManifest(bytes: Buffer, what: string): Manifest {
  const v = parseJson(bytes, what)
  if (!isObject(v) || v.schemaVersion !== 2) throw bad(what, 'not a schemaVersion 2 manifest')
  checkDescriptor(v.config, `${what} config`)
  if (!Array.isArray(v.layers)) throw bad(what, 'manifest has no layers array')
  v.layers.forEach((l, i) => checkDescriptor(l, `${what} layer ${i}`))
  return v as unknown as Manifest
}

/** Parses an image index (OCI index or Docker manifest list). */
export function parseIndex(bytes: Buffer, what: string): Index {
  const v = parseJson(bytes, what)
  if (!isObject(v) || v.schemaVersion !== 2 || !Array.isArray(v.manifests)) {
    throw bad(what, 'not a schemaVersion 2 index with a manifests array')
  }
  v.manifests.forEach((m, i) => checkDescriptor(m, `${what} manifest ${i}`))
  return v as unknown as Index
}

/** Parses an image config, keeping what hypership checks (rootfs.diff_ids). */
export function parseConfig(bytes: Buffer, what: string): ImageConfig {
  const v = parseJson(bytes, what)
  if (!isObject(v) || !isObject(v.rootfs)) throw bad(what, 'image config has no rootfs')
  const ids = v.rootfs.diff_ids
  if (!Array.isArray(ids) || !ids.every((d) => isSha256(d))) {
    throw bad(what, 'image config rootfs.diff_ids is not a list of sha256 digests')
  }
  return v as unknown as ImageConfig
}

function descriptorJson(d: Descriptor): Record<string, unknown> {
  return {
    mediaType: d.mediaType,
    digest: d.digest,
    size: d.size,
    ...(d.annotations === undefined ? {} : { annotations: d.annotations }),
    ...(d.platform === undefined ? {} : { platform: d.platform })
  }
}

/** Serialises a manifest with a fixed key order and no whitespace, so equal images give equal bytes. */
export function encodeManifest(m: Manifest): Buffer {
  const doc = {
    schemaVersion: m.schemaVersion,
    ...(m.mediaType === undefined ? {} : { mediaType: m.mediaType }),
    config: descriptorJson(m.config),
    layers: m.layers.map(descriptorJson),
    ...(m.annotations === undefined ? {} : { annotations: m.annotations })
  }
  return Buffer.from(JSON.stringify(doc))
}

/** Serialises an index the same deterministic way. */
export function encodeIndex(index: Index): Buffer {
  const doc = {
    schemaVersion: index.schemaVersion,
    ...(index.mediaType === undefined ? {} : { mediaType: index.mediaType }),
    manifests: index.manifests.map(descriptorJson),
    ...(index.annotations === undefined ? {} : { annotations: index.annotations })
  }
  return Buffer.from(JSON.stringify(doc))
}
