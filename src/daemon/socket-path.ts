import { createHash } from 'node:crypto'
import { realpathSync } from 'node:fs'
import { lstat, mkdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, dirname, join, resolve } from 'node:path'
import { ErrorCodes, HypershipError } from '../errors.js'

/** Unix socket paths are limited to ~108 bytes; stay well under. */
const MAX_SOCKET_PATH = 100

const uid = () => process.getuid?.() ?? 0

/**
 * Where the daemon of a store listens: `<store>/daemon.sock`, or, when that
 * path is too long for a unix socket, a name derived from the store's path
 * in a directory of the temp dir only this user may use. The CLI and the
 * daemon compute the same path, whichever way the store is spelled.
 */
export function daemonSocketPath(storeDir: string): string {
  const store = canonical(storeDir)
  const inStore = join(store, 'daemon.sock')
  if (inStore.length <= MAX_SOCKET_PATH) return inStore
  const id = createHash('sha256').update(store).digest('hex').slice(0, 16)
  return join(privateTmp(), `${id}.sock`)
}

/**
 * The store's path with symlinks resolved (as far as it exists yet), so
 * every spelling of one store finds the same daemon.
 */
function canonical(dir: string): string {
  const rest: string[] = []
  let path = resolve(dir)
  for (;;) {
    try {
      return join(realpathSync(path), ...rest.reverse())
    } catch {
      const parent = dirname(path)
      if (parent === path) return resolve(dir)
      rest.push(basename(path))
      path = parent
    }
  }
}

function privateTmp(): string {
  return join(tmpdir(), `hypership-${uid()}`)
}

/** Creates the owner-only temp directory a socket at `path` goes in, if it is there and missing; `ownSocket` checks it. */
export async function makeSocketDir(path: string): Promise<void> {
  if (dirname(path) !== privateTmp()) return
  await mkdir(dirname(path), { mode: 0o700 }).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST') throw err
  })
}

/**
 * Whether a socket at `path` is one this user's daemon made: absent is
 * false; one owned by someone else is an error, never connected to. In the
 * temp dir its directory must be this user's alone too (a name anyone can
 * compute must not let another user stand in for the daemon).
 */
export async function ownSocket(path: string): Promise<boolean> {
  if (dirname(path) === privateTmp()) {
    const dir = await lstat(dirname(path)).catch(() => undefined)
    if (!dir) return false
    if (!dir.isDirectory() || dir.uid !== uid() || (dir.mode & 0o077) !== 0) {
      throw new HypershipError(ErrorCodes.IO, `refusing ${dirname(path)} for the daemon's socket: it is not a directory only you can use`)
    }
  }
  const st = await lstat(path).catch(() => undefined)
  if (!st) return false
  if (!st.isSocket() || st.uid !== uid()) {
    throw new HypershipError(ErrorCodes.IO, `refusing ${path}: it is not a socket of yours, so not your daemon's`)
  }
  return true
}
