/**
 * Errors carry a stable `code`; callers should branch on the code, never on
 * `instanceof` or the message text. The table of codes lives in docs/errors.md.
 */
export const ErrorCodes = {
  /** A reference, location or flag could not be parsed. */
  BAD_REFERENCE: 'HS_ERR_BAD_REFERENCE',
  /** Bytes did not hash to the digest they were promised to have. */
  DIGEST_MISMATCH: 'HS_ERR_DIGEST_MISMATCH',
  /** A blob was longer or shorter than its descriptor says. */
  SIZE_MISMATCH: 'HS_ERR_SIZE_MISMATCH',
  /** A layer's uncompressed digest does not match the config's diff_ids. */
  DIFF_ID_MISMATCH: 'HS_ERR_DIFF_ID_MISMATCH',
  /** An archive or layout is malformed, truncated or hostile. */
  BAD_ARCHIVE: 'HS_ERR_BAD_ARCHIVE',
  /** A manifest, index or config is not valid JSON of the expected shape. */
  BAD_MANIFEST: 'HS_ERR_BAD_MANIFEST',
  /** Metadata exceeded a size or count cap. */
  TOO_LARGE: 'HS_ERR_TOO_LARGE',
  /** Something the format allows but hypership does not handle yet. */
  UNSUPPORTED: 'HS_ERR_UNSUPPORTED',
  /** The named image is not in the store (or not in the archive). */
  IMAGE_NOT_FOUND: 'HS_ERR_IMAGE_NOT_FOUND',
  /** A blob the store index points at is missing or damaged. */
  STORE_CORRUPT: 'HS_ERR_STORE_CORRUPT',
  /** Another process holds the store. */
  STORE_BUSY: 'HS_ERR_STORE_BUSY',
  /** A share key could not be decoded. */
  BAD_KEY: 'HS_ERR_BAD_KEY',
  /** Nobody served the share key within the wait. */
  NO_PEERS: 'HS_ERR_NO_PEERS',
  /** Peers were found but a needed chunk never arrived within the wait. */
  STALLED: 'HS_ERR_STALLED',
  /** A peer sent data that failed verification. */
  PEER_INVALID: 'HS_ERR_PEER_INVALID',
  /** No daemon runs for the store. */
  NO_DAEMON: 'HS_ERR_NO_DAEMON',
  /** The Docker Engine refused or failed an operation. */
  DOCKER: 'HS_ERR_DOCKER',
  /** No Docker Engine (or podman service) answers at the Docker host. */
  NO_ENGINE: 'HS_ERR_NO_ENGINE',
  /** A file could not be read or written. */
  IO: 'HS_ERR_IO',
  /** Not enough disk space for what the operation would write. */
  DISK_FULL: 'HS_ERR_DISK_FULL',
  /** The operation was interrupted (SIGINT, SIGTERM). */
  ABORTED: 'HS_ERR_ABORTED',
  /** A bug in hypership. */
  INTERNAL: 'HS_ERR_INTERNAL'
} as const

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes]

/** The one error class hypership throws on purpose. */
export class HypershipError extends Error {
  readonly code: ErrorCode

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'HypershipError'
    this.code = code
  }
}

/** True when `err` is a HypershipError with the given code. */
export function hasCode(err: unknown, code: ErrorCode): boolean {
  return err instanceof Error && (err as { code?: unknown }).code === code
}

/** Wraps any error with what we were doing, keeping a HypershipError's code. */
export function wrap(err: unknown, doing: string): HypershipError {
  const message = err instanceof Error ? err.message : String(err)
  const code =
    err instanceof HypershipError ? err.code : ioCode(err) ?? ErrorCodes.INTERNAL
  return new HypershipError(code, `${doing}: ${message}`, { cause: err })
}

function ioCode(err: unknown): ErrorCode | undefined {
  if (isDiskFull(err)) return ErrorCodes.DISK_FULL
  const sys = (err as { code?: unknown } | null)?.code
  return typeof sys === 'string' && /^E[A-Z]+$/.test(sys) ? ErrorCodes.IO : undefined
}

/** True for "no space left on device", from fs (ENOSPC) or RocksDB (message only). */
export function isDiskFull(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === 'ENOSPC' || /No space left on device/i.test(String((err as Error)?.message))
}

/**
 * Any error as a HypershipError: kept as is, an operating-system error
 * (ENOENT, EACCES…) becomes HS_ERR_IO (or HS_ERR_DISK_FULL), anything else
 * HS_ERR_INTERNAL. The cause is kept.
 */
export function asHypershipError(err: unknown): HypershipError {
  if (err instanceof HypershipError) return err
  const sys = (err as { code?: unknown } | null)?.code
  const message = (err as Error)?.message ?? String(err)
  if (isDiskFull(err)) return new HypershipError(ErrorCodes.DISK_FULL, message, { cause: err })
  if (typeof sys === 'string' && /^E[A-Z]+$/.test(sys)) return new HypershipError(ErrorCodes.IO, message, { cause: err })
  return new HypershipError(ErrorCodes.INTERNAL, message, { cause: err })
}
