import { readdir, stat, statfs } from 'node:fs/promises'
import { join } from 'node:path'
import { ErrorCodes, HypershipError } from '../errors.js'

/** Room kept free beyond what an operation needs: RocksDB logs, indexes. */
const MARGIN = 64 << 20

/**
 * Refuses, before anything is written, an operation that would write
 * `bytes` into the store at `dir` when the disk lacks the room, so a full
 * disk is a clear error and never a half-written store.
 */
export async function ensureSpace(dir: string, bytes: number, what: string): Promise<void> {
  const fs = await statfs(dir)
  const free = fs.bavail * fs.bsize
  if (free >= bytes + MARGIN) return
  throw new HypershipError(
    ErrorCodes.DISK_FULL,
    `not enough disk space for ${what}: it needs about ${mib(bytes + MARGIN)} MiB, ${mib(free)} MiB are free in ${dir}`
  )
}

/** Bytes in a file, or in every file under a directory. */
export async function pathSize(path: string): Promise<number> {
  const info = await stat(path)
  if (!info.isDirectory()) return info.size
  let total = 0
  for (const entry of await readdir(path, { withFileTypes: true })) total += await pathSize(join(path, entry.name))
  return total
}

function mib(n: number): number {
  return Math.ceil(n / 1048576)
}
