import type { Readable } from 'node:stream'
import type { Compression, Manifest } from './types.js'

/**
 * The image model's contract with transports. A source streams its blobs
 * into a sink once, in whatever order its container format stores them
 * (`docker save` puts manifest.json after the layers), and then says which
 * images it found. A destination writes stored images out again.
 */

/** What the sink learned about a blob while it streamed in. */
export interface PutResult {
  /** `sha256:<hex>` of the bytes as stored. */
  digest: string
  size: number
  /** Compression sniffed from the first bytes. */
  compression: Compression
  /** sha256 of the uncompressed bytes: the diff_id when the blob is a layer. */
  diffId: string
}

/** Where a source sends blobs. The caller decides what becomes visible. */
export interface BlobSink {
  /**
   * Consumes `stream` to its end and stores the bytes. With `expected`,
   * fails with HS_ERR_DIGEST_MISMATCH / HS_ERR_SIZE_MISMATCH when the bytes
   * differ. `what` names the blob in errors (an archive path, say).
   */
  put(stream: Readable, what: string, expected?: { digest?: string; size?: number }): Promise<PutResult>
  /** Reads back, at most `max` bytes, a blob put earlier in this import. */
  readBytes(digest: string, max: number): Promise<Buffer>
}

/** One image a source found; every blob it references was put into the sink. */
export interface FoundImage {
  /** Canonical `repo:tag` names; empty for an untagged image. */
  names: string[]
  /** The manifest's exact bytes; its sha256 is the image's manifest digest. */
  manifest: Buffer
}

/** Options every source understands. */
export interface ReadOptions {
  /** Only import these images (canonical names or manifest/config digests). */
  select?: string[]
}

/** A place images are read from: a `docker save` tar, an OCI layout… */
export interface ImageSource {
  /** How the user named it, for messages: `docker-archive:/tmp/x.tar`. */
  readonly description: string
  /** Streams every wanted blob into `sink` and returns the images found. */
  read(sink: BlobSink, options?: ReadOptions): Promise<FoundImage[]>
}

/** An image ready to be written out. */
export interface ImageToWrite {
  /** Canonical `repo:tag` names; may be empty. */
  names: string[]
  manifestDigest: string
  manifest: Manifest
  /** The manifest's exact bytes (their sha256 is `manifestDigest`). */
  manifestBytes: Buffer
}

/** Random access to stored blobs, for destinations. */
export interface BlobReader {
  /** A stream of the blob's bytes; it errors if they fail verification. */
  open(digest: string): Promise<Readable>
  /** Reads a whole small blob (configs), at most `max` bytes. */
  readBytes(digest: string, max: number): Promise<Buffer>
}

/** A place images are written to. Writes are atomic: all or nothing. */
export interface ImageDestination {
  readonly description: string
  write(images: ImageToWrite[], blobs: BlobReader): Promise<void>
}
