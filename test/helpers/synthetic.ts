import { sha256 } from '../../src/image/digest.js'

/** A tiny image whose single "layer" is `layer` (uncompressed, so digest = diff_id). */
export function syntheticImage(layer: Buffer) {
  const layerDigest = sha256(layer)
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [layerDigest] } }))
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layerDigest, size: layer.length }]
    })
  )
  return { layer, layerDigest, config, configDigest: sha256(config), manifest, manifestDigest: sha256(manifest) }
}
