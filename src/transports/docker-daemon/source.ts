import { ErrorCodes, HypershipError } from '../../errors.js'
import { sha256 } from '../../image/digest.js'
import type { BlobSink, FoundImage, ImageSource, ReadOptions } from '../../image/transport.js'
import { logger } from '../../log.js'
import { DockerArchiveSource } from '../docker-archive/source.js'
import { parseManifest } from '../image-json.js'
import { selectImages } from '../select.js'
import type { Engine } from './engine.js'
import type { DaemonReference } from './reference.js'

const debug = logger('docker')

/**
 * An image in a Docker Engine (or podman's compatible service), read with
 * `GET /images/get`: the engine's `docker save` tar streams straight into
 * the docker-archive reader, with no temporary file, and every blob is
 * verified on the way like any archive's. A tagged image arrives under the
 * name asked for (podman would call `app:v1` `localhost/app:v1`); one
 * named by ID arrives untagged, and must have that ID.
 */
export class DockerDaemonSource implements ImageSource {
  readonly description: string

  constructor(readonly engine: Engine, readonly reference: DaemonReference, readonly text = reference.name ?? reference.id) {
    this.description = `docker-daemon:${text}`
  }

  /** Streams the image's blobs into `sink`; HS_ERR_IMAGE_NOT_FOUND when the engine has no such image. */
  async read(sink: BlobSink, options: ReadOptions = {}): Promise<FoundImage[]> {
    const wanted = this.reference.id ?? this.text
    const archive = new DockerArchiveSource({ what: `${this.description} (Docker Engine at ${this.engine.host})`, open: () => this.engine.save(wanted) })
    const found = await archive.read(sink)
    if (found.length !== 1) {
      throw new HypershipError(ErrorCodes.BAD_ARCHIVE, `the Docker Engine at ${this.engine.host} sent ${found.length} images for ${wanted}, expected one`)
    }
    const image = found[0] as FoundImage
    const manifest = parseManifest(image.manifest, this.description)
    const configDigest = manifest.config.digest
    if (this.reference.id !== undefined && configDigest !== this.reference.id) {
      throw new HypershipError(ErrorCodes.DIGEST_MISMATCH, `the Docker Engine at ${this.engine.host} sent image ${configDigest} when asked for ${this.reference.id}`)
    }
    debug('%s: image %s (the engine calls it %o)', this.description, configDigest, image.names)
    const names = this.reference.name === undefined ? [] : [this.reference.name]
    const candidate = { names, manifest: image.manifest, configDigest, manifestDigest: sha256(image.manifest) }
    return selectImages([candidate], options.select, this.description).map((c) => ({ names: c.names, manifest: c.manifest }))
  }
}
