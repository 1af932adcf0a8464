import { ErrorCodes, HypershipError } from '../errors.js'
import { sha256 } from '../image/digest.js'
import type { PutResult } from '../image/transport.js'
import type { ImageConfig } from '../image/types.js'

/** Checks that bytes hash to a digest and have a size; the codes match the sink's. */
export function verifyBytes(bytes: Buffer, expected: { digest?: string; size?: number }, what: string): void {
  if (expected.size !== undefined && bytes.length !== expected.size) {
    throw new HypershipError(ErrorCodes.SIZE_MISMATCH, `${what}: expected ${expected.size} bytes, got ${bytes.length}`)
  }
  const got = sha256(bytes)
  if (expected.digest !== undefined && got !== expected.digest) {
    throw new HypershipError(ErrorCodes.DIGEST_MISMATCH, `${what}: expected ${expected.digest}, got ${got}`)
  }
}

/**
 * Checks that the layers, in order, decompress to the config's diff_ids:
 * HS_ERR_BAD_MANIFEST when the counts differ, HS_ERR_DIFF_ID_MISMATCH naming
 * the first layer that differs.
 */
export function checkDiffIds(config: ImageConfig, layers: Array<{ path: string; put: PutResult }>, what: string): void {
  const ids = config.rootfs.diff_ids
  if (ids.length !== layers.length) {
    throw new HypershipError(
      ErrorCodes.BAD_MANIFEST,
      `${what}: ${layers.length} layers but the config lists ${ids.length} diff_ids`
    )
  }
  layers.forEach(({ path, put }, i) => {
    if (put.diffId === ids[i]) return
    throw new HypershipError(
      ErrorCodes.DIFF_ID_MISMATCH,
      `${what}: layer ${i} (${path}) decompresses to ${put.diffId}, but the config says ${ids[i]}`
    )
  })
}
