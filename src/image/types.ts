/** Media types hypership reads and writes. */
export const MediaTypes = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerForeignLayerGzip: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip'
} as const

/** How a layer's bytes are compressed, decided from the bytes themselves. */
export type Compression = 'none' | 'gzip' | 'zstd'

/** A content descriptor, as in the OCI image spec. */
export interface Descriptor {
  mediaType: string
  digest: string
  size: number
  annotations?: Record<string, string>
  platform?: Platform
}

export interface Platform {
  architecture: string
  os: string
  variant?: string
}

/** An image manifest (OCI or Docker schema 2; the shapes are the same). */
export interface Manifest {
  schemaVersion: 2
  mediaType?: string
  config: Descriptor
  layers: Descriptor[]
  annotations?: Record<string, string>
}

/** An image index or Docker manifest list. */
export interface Index {
  schemaVersion: 2
  mediaType?: string
  manifests: Descriptor[]
  annotations?: Record<string, string>
}

/** The parts of an image config hypership checks. */
export interface ImageConfig {
  architecture?: string
  os?: string
  rootfs: { type: string; diff_ids: string[] }
  [key: string]: unknown
}

/** The layer media type for a compression, in the OCI family. */
export function ociLayerType(compression: Compression): string {
  if (compression === 'gzip') return MediaTypes.ociLayerGzip
  if (compression === 'zstd') return MediaTypes.ociLayerZstd
  return MediaTypes.ociLayer
}

/** True for any manifest media type (OCI or Docker). */
export function isManifestType(mediaType: string | undefined): boolean {
  return mediaType === MediaTypes.ociManifest || mediaType === MediaTypes.dockerManifest
}

/** True for any index media type (OCI or Docker manifest list). */
export function isIndexType(mediaType: string | undefined): boolean {
  return mediaType === MediaTypes.ociIndex || mediaType === MediaTypes.dockerManifestList
}
