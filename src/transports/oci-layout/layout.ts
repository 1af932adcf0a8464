import { ErrorCodes, HypershipError } from '../../errors.js'
import { sha256 } from '../../image/digest.js'
import type { FoundImage, ReadOptions } from '../../image/transport.js'
import { isIndexType, isManifestType, type Descriptor, type Manifest } from '../../image/types.js'
import { logger } from '../../log.js'
import { isObject, parseConfig, parseIndex, parseJson, parseManifest } from '../image-json.js'
import { selectImages } from '../select.js'
import { checkDiffIds } from '../verify.js'
import type { LayoutBlobs } from './blobs.js'
import { namesFor, REF_NAME } from './names.js'

const log = logger('image')

/** What a layout reader needs besides its blobs. */
export interface LayoutInput {
  /** The user's name for the layout (its path), for messages and derived names. */
  location: string
  ociLayout: Buffer | undefined
  indexJson: Buffer | undefined
  blobs: LayoutBlobs
  maxMetadata: number
}

/** One image manifest an index points at, read and verified. */
export interface IndexedManifest {
  names: string[]
  refName?: string
  bytes: Buffer
  digest: string
  manifest: Manifest
}

const ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', ia32: '386' }

/** Checks `oci-layout` and parses `index.json`. */
function readIndex(input: LayoutInput): Descriptor[] {
  const { location } = input
  if (input.ociLayout === undefined) throw new HypershipError(ErrorCodes.BAD_ARCHIVE, `${location}: no oci-layout file`)
  if (input.indexJson === undefined) throw new HypershipError(ErrorCodes.BAD_ARCHIVE, `${location}: no index.json`)
  const layout = parseJson(input.ociLayout, `${location}: oci-layout`)
  if (!isObject(layout) || typeof layout.imageLayoutVersion !== 'string') {
    throw new HypershipError(ErrorCodes.BAD_MANIFEST, `${location}: oci-layout has no imageLayoutVersion`)
  }
  return parseIndex(input.indexJson, `${location}: index.json`).manifests
}

/** Picks one platform's manifest from a nested index. */
async function pickPlatform(input: LayoutInput, desc: Descriptor): Promise<Descriptor> {
  const what = `${input.location}: index ${desc.digest}`
  const nested = parseIndex(await input.blobs.bytes(desc, input.maxMetadata, what), what)
  // An OCI layout's multi-platform index is narrowed to one platform here;
  // only the registry endpoint keeps indexes whole (Store.putIndex). Remove
  // this narrowing when shares carry indexes.
  const host = ARCH[process.arch] ?? process.arch
  for (const arch of [host, 'amd64']) {
    const hit = nested.manifests.find((m) => m.platform?.os === 'linux' && m.platform.architecture === arch && isManifestType(m.mediaType))
    if (hit !== undefined) {
      log('%s: picked linux/%s from a multi-platform index', what, arch)
      return hit
    }
  }
  throw new HypershipError(ErrorCodes.UNSUPPORTED, `${what}: no linux/${host} or linux/amd64 image in a multi-platform index`)
}

/** Reads the image manifests an index points at (one per entry, names merged per manifest). */
export async function readIndexedManifests(input: LayoutInput, ref?: string): Promise<IndexedManifest[]> {
  const found = new Map<string, IndexedManifest>()
  for (const entry of readIndex(input)) {
    const refName = entry.annotations?.[REF_NAME]
    if (ref !== undefined && refName !== ref) continue
    let desc = entry
    if (isIndexType(desc.mediaType)) desc = await pickPlatform(input, desc)
    if (!isManifestType(desc.mediaType)) {
      throw new HypershipError(ErrorCodes.UNSUPPORTED, `${input.location}: index entry ${desc.digest} has media type ${desc.mediaType}`)
    }
    const what = `${input.location}: manifest ${desc.digest}`
    const bytes = await input.blobs.bytes(desc, input.maxMetadata, what)
    const names = namesFor(entry, input.location)
    const prev = found.get(desc.digest)
    if (prev !== undefined) {
      prev.names = [...new Set([...prev.names, ...names])]
      continue
    }
    found.set(desc.digest, { names, bytes, digest: sha256(bytes), manifest: parseManifest(bytes, what), ...(refName === undefined ? {} : { refName }) })
  }
  if (ref !== undefined && found.size === 0) {
    throw new HypershipError(ErrorCodes.IMAGE_NOT_FOUND, `${input.location}: no image with ref.name ${ref}`)
  }
  return [...found.values()]
}

/** Verifies one image's config and layers and puts them into the sink. */
export async function importManifest(input: LayoutInput, image: IndexedManifest): Promise<FoundImage> {
  const what = `${input.location}: image ${image.digest}`
  const { config, layers } = image.manifest
  const configBytes = await input.blobs.bytes(config, input.maxMetadata, `${what} config`)
  const parsed = parseConfig(configBytes, `${what} config`)
  await input.blobs.put(config, `${what} config`)

  const puts = []
  for (const [i, layer] of layers.entries()) {
    puts.push({ path: layer.digest, put: await input.blobs.put(layer, `${what} layer ${i}`) })
  }
  checkDiffIds(parsed, puts, what)
  return { names: image.names, manifest: image.bytes }
}

/** Reads every wanted image of an OCI layout (`ref` picks one ref.name). */
export async function readLayout(input: LayoutInput, options: ReadOptions & { ref?: string } = {}): Promise<FoundImage[]> {
  const manifests = await readIndexedManifests(input, options.ref)
  const candidates = manifests.map((m) => ({ ...m, configDigest: m.manifest.config.digest, manifestDigest: m.digest }))
  const wanted = selectImages(candidates, options.select, input.location)

  const images: FoundImage[] = []
  for (const image of wanted) images.push(await importManifest(input, image))
  return images
}
