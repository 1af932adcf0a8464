import { createReadStream } from 'node:fs'
import { open } from 'node:fs/promises'
import type { Readable } from 'node:stream'
import { wrap } from '../errors.js'
import type { Compression } from '../image/types.js'
import { decompress, sniffCompression, SNIFF_BYTES } from './compression.js'
import { DEFAULT_LIMITS } from './limits.js'

/** The compression of a whole file, from its first bytes. */
export async function sniffFile(path: string): Promise<Compression> {
  const fh = await open(path, 'r').catch((err: unknown) => {
    throw wrap(err, `opening ${path}`)
  })
  try {
    const head = Buffer.alloc(SNIFF_BYTES)
    const { bytesRead } = await fh.read(head, 0, SNIFF_BYTES, 0)
    return sniffCompression(head.subarray(0, bytesRead))
  } finally {
    await fh.close()
  }
}

/**
 * Opens an archive file as a stream of tar bytes, decompressing a
 * gzip- or zstd-compressed archive (`docker save | gzip`) on the way.
 */
export async function openArchiveFile(path: string, maxDecompressed = DEFAULT_LIMITS.maxDecompressed): Promise<Readable> {
  const compression = await sniffFile(path)
  const raw = createReadStream(path)
  if (compression === 'none') return raw
  return decompress(raw, compression, maxDecompressed, path)
}
