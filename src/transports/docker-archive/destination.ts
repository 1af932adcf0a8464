import { writeAtomically } from '../../archive/atomic.js'
import { TarWriter } from '../../archive/tar-write.js'
import { ErrorCodes, HypershipError } from '../../errors.js'
import { digestHex } from '../../image/digest.js'
import { canonicalTag, familiarName, parseReference } from '../../image/reference.js'
import type { BlobReader, ImageDestination, ImageToWrite } from '../../image/transport.js'
import { blobPath } from '../oci-layout/blobs.js'
import { buildIndex, OCI_LAYOUT_FILE, tarOut, writeBlobs } from '../oci-layout/write.js'

/** How RepoTags are spelt: `busybox:1` (what `docker save` writes) or `docker.io/library/busybox:1`. */
export type TagStyle = 'familiar' | 'canonical'

/** manifest.json for `docker load`: paths into blobs/sha256/, familiar or canonical names. */
function dockerManifest(images: ImageToWrite[], style: TagStyle): Buffer {
  const entries = images.map((image) => ({
    Config: blobPath(image.manifest.config.digest),
    RepoTags: image.names.length === 0 ? null : image.names.map((n) => (style === 'canonical' ? n : familiarName(parseReference(n)))),
    Layers: image.manifest.layers.map((l) => blobPath(l.digest))
  }))
  return Buffer.from(JSON.stringify(entries))
}

/** The legacy `repositories` file: familiar repository → tag → config id. */
function repositories(images: ImageToWrite[]): Buffer {
  const repos: Record<string, Record<string, string>> = {}
  for (const image of images) {
    for (const name of image.names) {
      const ref = parseReference(name)
      const repo = familiarName({ domain: ref.domain, path: ref.path })
      repos[repo] = { ...repos[repo], [ref.tag ?? 'latest']: digestHex(image.manifest.config.digest) }
    }
  }
  return Buffer.from(JSON.stringify(repos))
}

/**
 * Writes the entries of a docker-archive into `writer` (which the caller
 * finishes or aborts): blobs first, then index.json, manifest.json,
 * oci-layout and repositories, so a reader cut off early never sees a
 * manifest.json and loads nothing. Layers stream from `blobs`.
 */
export async function writeDockerArchive(writer: TarWriter, images: ImageToWrite[], blobs: BlobReader, style: TagStyle = 'familiar'): Promise<void> {
  const out = await tarOut(writer)
  await writeBlobs(images, blobs, out)
  await out.file('index.json', buildIndex(images))
  await out.file('manifest.json', dockerManifest(images, style))
  await out.file('oci-layout', OCI_LAYOUT_FILE)
  await out.file('repositories', repositories(images))
}

/** The images with their names replaced by `name` (one image only), as `docker-archive:PATH:NAME` asks. */
export function renamed(images: ImageToWrite[], name: string | undefined, description: string): ImageToWrite[] {
  if (name === undefined) return images
  if (images.length !== 1) {
    throw new HypershipError(ErrorCodes.BAD_REFERENCE, `${description}: a name can be given for one image only, got ${images.length}`)
  }
  return images.map((i) => ({ ...i, names: [canonicalTag(name)] }))
}

/**
 * Writes a `docker save`-style archive in the Docker 25+ hybrid layout: an
 * OCI layout (oci-layout, index.json, blobs/sha256/) plus the legacy
 * manifest.json and repositories, so both `docker load` (20.10 and later)
 * and OCI tools read it. Shared blobs are written once; the write is atomic
 * and deterministic. Docker 20.10 loads plain and gzip layers but not zstd
 * ones (it cannot decompress them).
 */
export class DockerArchiveDestination implements ImageDestination {
  readonly description: string

  /** `name` (from `docker-archive:PATH:NAME:TAG`) renames the single image written. */
  constructor(readonly path: string, readonly name?: string) {
    this.description = `docker-archive:${path}${name === undefined ? '' : `:${name}`}`
  }

  /** Writes all `images` into one new archive, replacing any file at the path. */
  async write(images: ImageToWrite[], blobs: BlobReader): Promise<void> {
    const named = renamed(images, this.name, this.description)
    await writeAtomically(this.path, 'file', async (tmp) => {
      const writer = new TarWriter(tmp)
      try {
        await writeDockerArchive(writer, named, blobs)
        await writer.finish()
      } catch (err) {
        await writer.abort(err as Error)
        throw err
      }
    })
  }
}
