import { writeAtomically } from '../../archive/atomic.js'
import { TarWriter } from '../../archive/tar-write.js'
import type { BlobReader, ImageDestination, ImageToWrite } from '../../image/transport.js'
import type { LayoutKind } from './source.js'
import { buildIndex, directoryOut, OCI_LAYOUT_FILE, tarOut, writeBlobs, type LayoutOut } from './write.js'

/**
 * Writes images as an OCI image layout: a directory (`oci:DIR[:REF]`) or a
 * deterministic tar of one (`oci-archive:PATH[:REF]`). The write is atomic.
 * `ref` sets the ref.name annotation and then allows a single image.
 */
export class OciLayoutDestination implements ImageDestination {
  readonly description: string

  constructor(
    readonly path: string,
    readonly kind: LayoutKind,
    readonly ref?: string
  ) {
    this.description = `${kind === 'dir' ? 'oci' : 'oci-archive'}:${path}${ref === undefined ? '' : `:${ref}`}`
  }

  /** Writes all `images` into one new layout, replacing a file or an empty directory. */
  async write(images: ImageToWrite[], blobs: BlobReader): Promise<void> {
    const index = buildIndex(images, this.ref)
    const fill = async (out: LayoutOut): Promise<void> => {
      await out.file('oci-layout', OCI_LAYOUT_FILE)
      await writeBlobs(images, blobs, out)
      await out.file('index.json', index)
    }

    if (this.kind === 'dir') {
      await writeAtomically(this.path, 'dir', (tmp) => fill(directoryOut(tmp)))
      return
    }
    await writeAtomically(this.path, 'file', async (tmp) => {
      const writer = new TarWriter(tmp)
      try {
        await fill(await tarOut(writer))
        await writer.finish()
      } catch (err) {
        await writer.abort(err as Error)
        throw err
      }
    })
  }
}
