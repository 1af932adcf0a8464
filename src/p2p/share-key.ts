import id from 'hypercore-id-encoding'
import { ErrorCodes, HypershipError } from '../errors.js'

/** A share key as people pass it around: the catalog core's public key in z-base32. */
export function encodeShareKey(key: Buffer): string {
  return id.encode(key)
}

/** Decodes a share key (z-base32, or 64 hex characters). */
export function decodeShareKey(text: string): Buffer {
  const trimmed = text.trim()
  try {
    const key = id.decode(trimmed)
    if (key.length === 32) return key
  } catch {
    // fall through to the error below
  }
  throw new HypershipError(ErrorCodes.BAD_KEY, `"${trimmed.slice(0, 80)}" is not a share key (expected 52 z-base32 characters)`)
}
