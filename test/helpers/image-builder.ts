import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import tar from 'tar-stream'
import type { ImageToWrite } from '../../src/image/transport.js'
import { MediaTypes, ociLayerType, type Compression, type Manifest } from '../../src/image/types.js'
import type { MemoryStore } from './memory-sink.js'

/** Builds small but real images for tests: layer tars, OCI layouts, docker-save tars. */

export function sha(bytes: Buffer | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`
}
const hex = (digest: string): string => digest.slice('sha256:'.length)

/** A raw tar entry; `body` for files, `linkname` for links. */
export interface RawEntry {
  name: string
  body?: Buffer | string
  type?: 'file' | 'directory' | 'symlink' | 'link'
  linkname?: string
}

/** Packs entries into a tar, with fixed mtimes so the bytes are stable. */
export async function tarOf(entries: RawEntry[]): Promise<Buffer> {
  const pack = tar.pack()
  for (const e of entries) {
    const type = e.type ?? 'file'
    const header = { name: e.name, type, mtime: new Date(1_700_000_000_000), mode: type === 'directory' ? 0o755 : 0o644, uid: 0, gid: 0, ...(e.linkname === undefined ? {} : { linkname: e.linkname }) }
    if (type === 'file') pack.entry(header, Buffer.from(e.body ?? ''))
    else pack.entry(header)
  }
  pack.finalize()
  const chunks: Buffer[] = []
  for await (const chunk of pack) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

/** What goes into one layer. */
export interface LayerSpec {
  files?: Record<string, string | Buffer>
  dirs?: string[]
  symlinks?: Record<string, string>
  /** Paths deleted by this layer (`dir/.wh.name` entries). */
  whiteouts?: string[]
  /** Directories made opaque (`dir/.wh..wh..opq`). */
  opaque?: string[]
  compression?: Compression
}

/** A layer: its uncompressed tar and the blob as stored. */
export interface BuiltLayer {
  tar: Buffer
  diffId: string
  blob: Buffer
  digest: string
  compression: Compression
  mediaType: string
}

function compress(data: Buffer, compression: Compression): Buffer {
  if (compression === 'gzip') return gzipSync(data)
  if (compression === 'zstd') return execFileSync('zstd', ['-q', '-c', '-3'], { input: data, maxBuffer: 1 << 30 })
  return data
}

/** Builds a layer tar with files, dirs, symlinks and whiteouts, optionally compressed. */
export async function buildLayer(spec: LayerSpec): Promise<BuiltLayer> {
  const entries: RawEntry[] = []
  for (const d of spec.dirs ?? []) entries.push({ name: `${d}/`, type: 'directory' })
  for (const [name, body] of Object.entries(spec.files ?? {})) entries.push({ name, body })
  for (const [name, target] of Object.entries(spec.symlinks ?? {})) entries.push({ name, type: 'symlink', linkname: target })
  for (const path of spec.whiteouts ?? []) {
    const slash = path.lastIndexOf('/')
    entries.push({ name: `${path.slice(0, slash + 1)}.wh.${path.slice(slash + 1)}` })
  }
  for (const dir of spec.opaque ?? []) entries.push({ name: `${dir}/.wh..wh..opq` })
  const layerTar = await tarOf(entries)
  const compression = spec.compression ?? 'none'
  const blob = compress(layerTar, compression)
  return { tar: layerTar, diffId: sha(layerTar), blob, digest: sha(blob), compression, mediaType: ociLayerType(compression) }
}

/** A complete image: layers, config and OCI manifest. */
export interface BuiltImage {
  names: string[]
  layers: BuiltLayer[]
  config: Buffer
  configDigest: string
  manifest: Manifest
  manifestBytes: Buffer
  manifestDigest: string
}

/** Assembles an image from layers; `label` makes configs differ. */
export function buildImage(layers: BuiltLayer[], names: string[] = [], label = 'test', architecture = 'amd64'): BuiltImage {
  const config = Buffer.from(JSON.stringify({
    architecture,
    os: 'linux',
    created: '2023-11-14T22:13:20Z',
    config: { Env: ['PATH=/bin'], Labels: { 'org.example.test': label } },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    history: layers.map(() => ({ created: '2023-11-14T22:13:20Z', created_by: 'image-builder' }))
  }))
  const manifest: Manifest = {
    schemaVersion: 2,
    mediaType: MediaTypes.ociManifest,
    config: { mediaType: MediaTypes.ociConfig, digest: sha(config), size: config.length },
    layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.blob.length }))
  }
  const manifestBytes = Buffer.from(JSON.stringify(manifest))
  return { names, layers, config, configDigest: sha(config), manifest, manifestBytes, manifestDigest: sha(manifestBytes) }
}

/** Entries of an OCI layout; `annotate` gives each image's index annotations. */
export function ociEntries(images: BuiltImage[], annotate: (img: BuiltImage) => Array<Record<string, string> | undefined>): RawEntry[] {
  const blobs = new Map<string, Buffer>()
  const manifests: object[] = []
  for (const img of images) {
    for (const l of img.layers) blobs.set(l.digest, l.blob)
    blobs.set(img.configDigest, img.config)
    blobs.set(img.manifestDigest, img.manifestBytes)
    for (const annotations of annotate(img)) {
      manifests.push({ mediaType: MediaTypes.ociManifest, digest: img.manifestDigest, size: img.manifestBytes.length, ...(annotations === undefined ? {} : { annotations }) })
    }
  }
  return [
    { name: 'oci-layout', body: '{"imageLayoutVersion":"1.0.0"}' },
    ...[...blobs].map(([digest, body]) => ({ name: `blobs/sha256/${hex(digest)}`, body })),
    { name: 'index.json', body: JSON.stringify({ schemaVersion: 2, manifests }) }
  ]
}

/** Writes entries (files only) under a directory. */
export async function writeEntries(dir: string, entries: RawEntry[]): Promise<void> {
  for (const e of entries) {
    const path = join(dir, e.name)
    await mkdir(join(path, '..'), { recursive: true })
    await writeFile(path, e.body ?? '')
  }
}

/** Annotations the way skopeo/containerd write them: full name plus tag. */
export function fullNames(img: BuiltImage): Array<Record<string, string> | undefined> {
  if (img.names.length === 0) return [undefined]
  return img.names.map((n) => ({ 'io.containerd.image.name': n, 'org.opencontainers.image.ref.name': n.slice(n.lastIndexOf(':') + 1) }))
}

/** How the legacy layout points at layers. */
export type LegacyStyle = 'docker' | 'podman'

/**
 * A `docker save` 20.10-style tar (uncompressed layers as `<v1id>/layer.tar`,
 * `<config>.json`, manifest.json last, `./` prefixes). 'podman' stores
 * `<diffid>.tar` at the top and makes `<v1id>/layer.tar` symlinks to it.
 */
export async function legacyDockerEntries(images: Array<{ image: BuiltImage; repoTags: string[] | null }>, style: LegacyStyle = 'docker'): Promise<RawEntry[]> {
  const entries: RawEntry[] = [{ name: './', type: 'directory' }]
  const seen = new Set<string>()
  const manifest: object[] = []
  for (const { image, repoTags } of images) {
    let parent = ''
    const layerPaths: string[] = []
    for (const layer of image.layers) {
      const v1 = hex(sha(`${parent}\n${layer.diffId}`))
      parent = v1
      layerPaths.push(`${v1}/layer.tar`)
      if (seen.has(v1)) continue
      seen.add(v1)
      entries.push({ name: `./${v1}/`, type: 'directory' }, { name: `./${v1}/VERSION`, body: '1.0' }, { name: `./${v1}/json`, body: `{"id":"${v1}"}` })
      if (style === 'podman') {
        if (!seen.has(layer.diffId)) entries.push({ name: `./${hex(layer.diffId)}.tar`, body: layer.tar })
        seen.add(layer.diffId)
        entries.push({ name: `./${v1}/layer.tar`, type: 'symlink', linkname: `../${hex(layer.diffId)}.tar` })
      } else {
        entries.push({ name: `./${v1}/layer.tar`, body: layer.tar })
      }
    }
    entries.push({ name: `./${hex(image.configDigest)}.json`, body: image.config })
    manifest.push({ Config: `${hex(image.configDigest)}.json`, RepoTags: repoTags, Layers: layerPaths })
  }
  entries.push({ name: './manifest.json', body: JSON.stringify(manifest) }, { name: './repositories', body: '{}' })
  return entries
}

/** A Docker 25-style hybrid tar: OCI layout plus manifest.json pointing into blobs/. */
export function hybridEntries(images: BuiltImage[]): RawEntry[] {
  const manifest = images.map((img) => ({
    Config: `blobs/sha256/${hex(img.configDigest)}`,
    RepoTags: img.names.length === 0 ? null : img.names,
    Layers: img.layers.map((l) => `blobs/sha256/${hex(l.digest)}`)
  }))
  return [...ociEntries(images, fullNames), { name: 'manifest.json', body: JSON.stringify(manifest) }]
}

/** Puts an image's blobs into a store and describes it for a destination. */
export function toWrite(store: MemoryStore, img: BuiltImage, names = img.names): ImageToWrite {
  for (const l of img.layers) store.add(l.blob)
  store.add(img.config)
  return { names, manifestDigest: img.manifestDigest, manifest: img.manifest, manifestBytes: img.manifestBytes }
}
