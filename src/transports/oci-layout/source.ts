import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { collectArchive } from '../../archive/contents.js'
import { Budget, withDefaults, type ArchiveLimits } from '../../archive/limits.js'
import { openArchiveFile } from '../../archive/open.js'
import { ErrorCodes, HypershipError, wrap } from '../../errors.js'
import type { BlobSink, FoundImage, ImageSource, ReadOptions } from '../../image/transport.js'
import { archiveBlobs, directoryBlobs } from './blobs.js'
import { readLayout } from './layout.js'

const BLOB_NAME = /^blobs\/sha256\/([a-f0-9]{64})$/
const METADATA = new Set(['index.json', 'oci-layout'])

/** How an OCI layout is stored: a directory (`oci:`) or a tar of one (`oci-archive:`). */
export type LayoutKind = 'dir' | 'archive'

/** Reads a small file of a layout directory, or undefined when it is absent. */
async function readSmall(path: string, max: number): Promise<Buffer | undefined> {
  try {
    const info = await stat(path)
    if (info.size > max) {
      throw new HypershipError(ErrorCodes.TOO_LARGE, `${path}: ${info.size} bytes is over the ${max}-byte cap`)
    }
    return await readFile(path)
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ENOENT') return undefined
    throw err instanceof HypershipError ? err : wrap(err, `reading ${path}`)
  }
}

/**
 * Reads images from an OCI image layout: a directory, or a tar of one read
 * in a single streaming pass. `ref` picks the entry with that ref.name.
 */
export class OciLayoutSource implements ImageSource {
  readonly description: string
  readonly #limits: ArchiveLimits

  constructor(
    readonly path: string,
    readonly kind: LayoutKind,
    readonly ref?: string,
    limits?: Partial<ArchiveLimits>
  ) {
    this.description = `${kind === 'dir' ? 'oci' : 'oci-archive'}:${path}${ref === undefined ? '' : `:${ref}`}`
    this.#limits = withDefaults(limits)
  }

  /** Streams the wanted images' blobs into `sink`, verifying digests, sizes and diff_ids. */
  async read(sink: BlobSink, options: ReadOptions = {}): Promise<FoundImage[]> {
    const max = this.#limits.maxMetadataFile
    const opts = { ...options, ...(this.ref === undefined ? {} : { ref: this.ref }) }
    if (this.kind === 'dir') {
      return readLayout(
        {
          location: this.path,
          ociLayout: await readSmall(join(this.path, 'oci-layout'), max),
          indexJson: await readSmall(join(this.path, 'index.json'), max),
          blobs: directoryBlobs(this.path, sink),
          maxMetadata: max
        },
        opts
      )
    }

    const contents = await collectArchive(await openArchiveFile(this.path, this.#limits.maxDecompressed), sink, {
      what: this.path,
      budget: new Budget(this.#limits),
      ignore: (p) => !METADATA.has(p) && !BLOB_NAME.test(p),
      isMetadata: (p) => METADATA.has(p),
      expected: (p) => {
        const hex = BLOB_NAME.exec(p)?.[1]
        return hex === undefined ? undefined : { digest: `sha256:${hex}` }
      }
    })
    const file = (p: string): Promise<Buffer | undefined> => (contents.has(p) ? contents.bytes(p, max) : Promise.resolve(undefined))
    return readLayout(
      {
        location: this.path,
        ociLayout: await file('oci-layout'),
        indexJson: await file('index.json'),
        blobs: archiveBlobs(contents),
        maxMetadata: max
      },
      opts
    )
  }
}
