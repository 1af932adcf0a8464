import type { Readable } from 'node:stream'
import { collectArchive, type ArchiveContents } from '../../archive/contents.js'
import { Budget, withDefaults, type ArchiveLimits } from '../../archive/limits.js'
import { openArchiveFile } from '../../archive/open.js'
import { safePath } from '../../archive/path.js'
import { ErrorCodes, HypershipError, wrap } from '../../errors.js'
import { sha256 } from '../../image/digest.js'
import { canonicalTag } from '../../image/reference.js'
import type { BlobSink, FoundImage, ImageSource, PutResult, ReadOptions } from '../../image/transport.js'
import { MediaTypes, ociLayerType, type Manifest } from '../../image/types.js'
import { logger } from '../../log.js'
import { encodeManifest, parseConfig } from '../image-json.js'
import { archiveBlobs } from '../oci-layout/blobs.js'
import { readIndexedManifests, type IndexedManifest } from '../oci-layout/layout.js'
import { selectImages } from '../select.js'
import { checkDiffIds, verifyBytes } from '../verify.js'
import { digestInName, parseDockerManifest, type DockerArchiveEntry } from './manifest-json.js'

const log = logger('image')
const BLOB_NAME = /^blobs\/sha256\/([a-f0-9]{64})$/
const METADATA = new Set(['manifest.json', 'index.json', 'oci-layout'])

interface Built {
  names: string[]
  configDigest: string
  manifestDigest: string
  manifest: Buffer
}

/** A docker-archive that is not a file: a stream opened once, when read. */
export interface ArchiveStream {
  /** Names the stream in messages and descriptions (`docker-daemon:app:v1`). */
  what: string
  /** Opens the (uncompressed) tar stream. */
  open(): Promise<Readable>
}

/**
 * Reads `docker save` archives in one streaming pass: the legacy layout,
 * Docker 25+ hybrid archives (OCI layout plus manifest.json), podman and
 * skopeo variants, several images per file. Manifests are synthesised as
 * OCI manifests unless a hybrid archive's index.json holds a matching one.
 * The archive is a file, or any tar stream (an engine's `/images/get`).
 */
export class DockerArchiveSource implements ImageSource {
  readonly description: string
  /** The file, or what the stream is called, for messages. */
  readonly path: string
  readonly #input: string | ArchiveStream
  readonly #limits: ArchiveLimits

  /** `name` (from `docker-archive:PATH:NAME:TAG`) selects one image. */
  constructor(input: string | ArchiveStream, readonly name?: string, limits?: Partial<ArchiveLimits>) {
    this.#input = input
    this.path = typeof input === 'string' ? input : input.what
    this.description = typeof input === 'string' ? `docker-archive:${input}${name === undefined ? '' : `:${name}`}` : input.what
    this.#limits = withDefaults(limits)
  }

  /** Streams the archive's blobs into `sink` and returns the images it holds. */
  async read(sink: BlobSink, options: ReadOptions = {}): Promise<FoundImage[]> {
    const input = typeof this.#input === 'string' ? await openArchiveFile(this.#input, this.#limits.maxDecompressed) : await this.#input.open()
    const contents = await collectArchive(input, sink, {
      what: this.path,
      budget: new Budget(this.#limits),
      ignore: (p) => p === 'repositories' || /(^|\/)(json|VERSION)$/.test(p),
      isMetadata: (p) => METADATA.has(p) || (p.endsWith('.json') && !p.includes('/')),
      expected: (p) => {
        const hex = BLOB_NAME.exec(p)?.[1]
        return hex === undefined ? undefined : { digest: `sha256:${hex}` }
      }
    })
    if (!contents.has('manifest.json')) {
      throw new HypershipError(ErrorCodes.BAD_ARCHIVE, `${this.path}: no manifest.json (not a docker-archive?)`)
    }
    const max = this.#limits.maxMetadataFile
    const entries = parseDockerManifest(await contents.bytes('manifest.json', max), `${this.path}: manifest.json`)
    const indexed = await this.#indexed(contents)

    const built = new Map<string, Built>()
    for (const [i, entry] of entries.entries()) {
      const image = await this.#build(contents, entry, i, indexed)
      const prev = built.get(image.manifestDigest)
      if (prev === undefined) built.set(image.manifestDigest, image)
      else prev.names = [...new Set([...prev.names, ...image.names])]
    }

    const select = [...(options.select ?? []), ...(this.name === undefined ? [] : [this.name])]
    return selectImages([...built.values()], select, this.path).map(({ names, manifest }) => ({ names, manifest }))
  }

  /** The OCI manifests of a hybrid archive, or [] when there are none or they are unreadable. */
  async #indexed(contents: ArchiveContents): Promise<IndexedManifest[]> {
    if (!contents.has('index.json') || !contents.has('oci-layout')) return []
    const max = this.#limits.maxMetadataFile
    try {
      return await readIndexedManifests({
        location: this.path,
        ociLayout: await contents.bytes('oci-layout', max),
        indexJson: await contents.bytes('index.json', max),
        blobs: archiveBlobs(contents),
        maxMetadata: max
      })
    } catch (err) {
      // docker load ignores index.json too; manifest.json is what counts here.
      log('%s: ignoring the OCI index: %s', this.path, (err as Error).message)
      return []
    }
  }

  async #build(contents: ArchiveContents, entry: DockerArchiveEntry, i: number, indexed: IndexedManifest[]): Promise<Built> {
    const what = `${this.path}: image ${i}`
    const configPath = safePath(entry.Config)
    const configBytes = await contents.bytes(configPath, this.#limits.maxMetadataFile)
    const named = digestInName(configPath)
    if (named !== undefined) verifyBytes(configBytes, { digest: named }, `${what} config ${configPath}`)
    const config = parseConfig(configBytes, `${what} config ${configPath}`)
    const configDigest = sha256(configBytes)
    await contents.put(configPath, { digest: configDigest, size: configBytes.length })

    const layers: Array<{ path: string; put: PutResult }> = []
    for (const raw of entry.Layers) {
      const path = safePath(raw)
      const hex = BLOB_NAME.exec(path)?.[1]
      layers.push({ path, put: await contents.put(path, hex === undefined ? undefined : { digest: `sha256:${hex}` }) })
    }
    checkDiffIds(config, layers, what)

    const names = (entry.RepoTags ?? []).map((tag) => {
      try {
        return canonicalTag(tag)
      } catch (err) {
        throw wrap(err, `${what} RepoTags`)
      }
    })
    const manifest: Manifest = {
      schemaVersion: 2,
      mediaType: MediaTypes.ociManifest,
      config: { mediaType: MediaTypes.ociConfig, digest: configDigest, size: configBytes.length },
      layers: layers.map(({ put }) => ({ mediaType: ociLayerType(put.compression), digest: put.digest, size: put.size }))
    }
    const original = indexed.find((m) => sameImage(m.manifest, manifest))
    if (original !== undefined) log('%s: keeping the OCI manifest %s from index.json', what, original.digest)
    const bytes = original?.bytes ?? encodeManifest(manifest)
    return { names, configDigest, manifestDigest: sha256(bytes), manifest: bytes }
  }
}

/** True when two manifests name the same config and the same layer blobs. */
function sameImage(a: Manifest, b: Manifest): boolean {
  return (
    a.config.digest === b.config.digest &&
    a.layers.length === b.layers.length &&
    a.layers.every((l, i) => l.digest === b.layers[i]?.digest && l.size === b.layers[i]?.size)
  )
}
