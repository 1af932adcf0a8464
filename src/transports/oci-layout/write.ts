import { createWriteStream } from 'node:fs'
import { mkdir, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { TarWriter } from '../../archive/tar-write.js'
import { ErrorCodes, HypershipError } from '../../errors.js'
import { parseReference } from '../../image/reference.js'
import type { BlobReader, ImageToWrite } from '../../image/transport.js'
import { MediaTypes, type Descriptor, type Index } from '../../image/types.js'
import { encodeIndex } from '../image-json.js'
import { blobPath } from './blobs.js'
import { CONTAINERD_NAME, REF_NAME } from './names.js'

/** The `oci-layout` file every layout starts with. */
export const OCI_LAYOUT_FILE = Buffer.from('{"imageLayoutVersion":"1.0.0"}')

/** Where the files of a layout go: a directory or a tar. */
export interface LayoutOut {
  file(name: string, bytes: Buffer): Promise<void>
  stream(name: string, size: number, body: Readable): Promise<void>
}

/** Layout files written under a directory. */
export function directoryOut(dir: string): LayoutOut {
  return {
    async file(name, bytes) {
      await mkdir(join(dir, name, '..'), { recursive: true })
      await writeFile(join(dir, name), bytes, { mode: 0o644 })
    },
    async stream(name, size, body) {
      const path = join(dir, name)
      await mkdir(join(path, '..'), { recursive: true })
      await pipeline(body, createWriteStream(path, { mode: 0o644 }))
      const written = (await stat(path)).size
      if (written !== size) {
        throw new HypershipError(ErrorCodes.SIZE_MISMATCH, `${name}: expected ${size} bytes, wrote ${written}`)
      }
    }
  }
}

/** Layout files written as entries of a tar (directories first). */
export async function tarOut(writer: TarWriter): Promise<LayoutOut> {
  await writer.directory('blobs')
  await writer.directory('blobs/sha256')
  return {
    file: (name, bytes) => writer.bytes(name, bytes),
    stream: (name, size, body) => writer.stream(name, size, body)
  }
}

/**
 * Writes every blob the images use, each once: layers, then configs, then
 * manifests. Layers stream from `blobs`; nothing large is held in memory.
 */
export async function writeBlobs(images: ImageToWrite[], blobs: BlobReader, out: LayoutOut): Promise<void> {
  const written = new Set<string>()
  const once = async (desc: { digest: string; size: number }, body: () => Promise<Readable | Buffer>): Promise<void> => {
    if (written.has(desc.digest)) return
    written.add(desc.digest)
    const data = await body()
    if (Buffer.isBuffer(data)) await out.file(blobPath(desc.digest), data)
    else await out.stream(blobPath(desc.digest), desc.size, data)
  }

  for (const image of images) {
    for (const layer of image.manifest.layers) await once(layer, () => blobs.open(layer.digest))
    await once(image.manifest.config, () => blobs.open(image.manifest.config.digest))
    await once({ digest: image.manifestDigest, size: image.manifestBytes.length }, async () => image.manifestBytes)
  }
}

/**
 * index.json for the images: one entry per name, annotated with the full
 * name (`io.containerd.image.name`) and its tag (`ref.name`), or one bare
 * entry for an untagged image. `refName` overrides ref.name (one image only).
 */
export function buildIndex(images: ImageToWrite[], refName?: string): Buffer {
  if (refName !== undefined && images.length !== 1) {
    throw new HypershipError(ErrorCodes.BAD_REFERENCE, `a layout reference (${refName}) can name only one image, got ${images.length}`)
  }
  const manifests: Descriptor[] = []
  for (const image of images) {
    const base = { mediaType: image.manifest.mediaType ?? MediaTypes.ociManifest, digest: image.manifestDigest, size: image.manifestBytes.length }
    if (image.names.length === 0) {
      manifests.push(refName === undefined ? base : { ...base, annotations: { [REF_NAME]: refName } })
      continue
    }
    for (const name of image.names) {
      const tag = refName ?? parseReference(name).tag ?? 'latest'
      manifests.push({ ...base, annotations: { [CONTAINERD_NAME]: name, [REF_NAME]: tag } })
    }
  }
  const index: Index = { schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests }
  return encodeIndex(index)
}
