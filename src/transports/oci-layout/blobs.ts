import { createReadStream } from 'node:fs'
import { readFile, lstat } from 'node:fs/promises'
import { join } from 'node:path'
import type { ArchiveContents } from '../../archive/contents.js'
import { ErrorCodes, HypershipError, wrap } from '../../errors.js'
import { digestHex } from '../../image/digest.js'
import type { BlobSink, PutResult } from '../../image/transport.js'
import { verifyBytes } from '../verify.js'

/** A descriptor's identity: what a blob must hash to and weigh. */
export interface BlobRef {
  digest: string
  size: number
}

/** Verified access to the blobs of an OCI layout, wherever it lives. */
export interface LayoutBlobs {
  /** Reads a small blob (≤ max bytes), checked against its digest and size. */
  bytes(ref: BlobRef, max: number, what: string): Promise<Buffer>
  /** Puts a blob into the sink once, checked against its digest and size. */
  put(ref: BlobRef, what: string): Promise<PutResult>
}

/** The archive path of a blob in an OCI layout. */
export function blobPath(digest: string): string {
  return `blobs/sha256/${digestHex(digest)}`
}

function tooLarge(what: string, size: number, max: number): HypershipError {
  return new HypershipError(ErrorCodes.TOO_LARGE, `${what}: ${size} bytes is over the ${max}-byte cap`)
}

/** Blobs of a layout read in one pass from a tar. */
export function archiveBlobs(contents: ArchiveContents): LayoutBlobs {
  return {
    async bytes(ref, max, what) {
      if (ref.size > max) throw tooLarge(what, ref.size, max)
      const bytes = await contents.bytes(blobPath(ref.digest), max)
      verifyBytes(bytes, ref, what)
      return bytes
    },
    put(ref) {
      return contents.put(blobPath(ref.digest), ref)
    }
  }
}

/** Blobs of a layout directory on disk, streamed into `sink` on demand. */
export function directoryBlobs(dir: string, sink: BlobSink): LayoutBlobs {
  const puts = new Map<string, Promise<PutResult>>()
  const file = (digest: string): string => join(dir, blobPath(digest))

  const missing = (err: unknown, what: string): HypershipError =>
    (err as { code?: unknown }).code === 'ENOENT'
      ? new HypershipError(ErrorCodes.BAD_ARCHIVE, `${what}: blob missing from ${dir}`, { cause: err })
      : wrap(err, `reading ${what}`)

  return {
    async bytes(ref, max, what) {
      if (ref.size > max) throw tooLarge(what, ref.size, max)
      const path = file(ref.digest)
      const info = await regularFile(path, what, missing)
      if (info.size > max) throw tooLarge(what, info.size, max)
      const bytes = await readFile(path)
      verifyBytes(bytes, ref, what)
      return bytes
    },
    put(ref, what) {
      let pending = puts.get(ref.digest)
      if (pending === undefined) {
        pending = (async () => {
          const path = file(ref.digest)
          await regularFile(path, what, missing)
          return sink.put(createReadStream(path), what, ref)
        })()
        puts.set(ref.digest, pending)
      }
      return pending
    }
  }
}

/** Stats a blob file, refusing anything but a regular file (symlinks out of the layout, FIFOs, devices). */
async function regularFile(path: string, what: string, missing: (err: unknown, what: string) => HypershipError) {
  const info = await lstat(path).catch((err: unknown) => {
    throw missing(err, what)
  })
  if (!info.isFile()) throw new HypershipError(ErrorCodes.BAD_ARCHIVE, `${what}: ${path} is not a regular file`)
  return info
}
