import { open, readFile, rm, stat } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { ErrorCodes, HypershipError } from '../errors.js'

/** A lock older than this is stale whoever holds it: updates take milliseconds. */
const STALE_MS = 30_000
const WAIT_MS = 15_000

/**
 * Runs `fn` holding an exclusive lock file (created with O_EXCL, holding the
 * owner's pid). A lock whose owner is dead, or that is older than
 * STALE_MS, is taken over. Installs no signal handlers: a process killed
 * while holding it leaves a lock the next one takes over.
 */
export async function withLockFile<T>(path: string, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + WAIT_MS
  for (let delay = 5; ; delay = Math.min(delay * 2, 200)) {
    try {
      const fh = await open(path, 'wx', 0o600)
      await fh.writeFile(String(process.pid))
      await fh.close()
      break
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
    if (await isStale(path)) {
      await rm(path, { force: true })
      continue
    }
    if (Date.now() > deadline) {
      throw new HypershipError(ErrorCodes.STORE_BUSY, `${path} has been locked by another process for over ${WAIT_MS / 1000} s`)
    }
    await sleep(delay)
  }
  try {
    return await fn()
  } finally {
    await rm(path, { force: true })
  }
}

async function isStale(path: string): Promise<boolean> {
  try {
    const [text, info] = await Promise.all([readFile(path, 'utf8'), stat(path)])
    if (Date.now() - info.mtimeMs > STALE_MS) return true
    const pid = Number(text)
    if (!Number.isInteger(pid) || pid <= 0) return Date.now() - info.mtimeMs > 1000
    process.kill(pid, 0)
    return false
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    // ESRCH: no such process; ENOENT: released meanwhile (retry at once)
    return code === 'ESRCH' || code === 'ENOENT'
  }
}
