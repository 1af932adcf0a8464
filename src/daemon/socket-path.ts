import { createHash } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

/** Unix socket paths are limited to ~108 bytes; stay well under. */
const MAX_SOCKET_PATH = 100

/**
 * Where the daemon of a store listens: `<store>/daemon.sock`, or, when that
 * path is too long for a unix socket, a name derived from the store's path
 * in the temp dir. The CLI and the daemon compute the same path.
 */
export function daemonSocketPath(storeDir: string): string {
  const inStore = join(resolve(storeDir), 'daemon.sock')
  if (inStore.length <= MAX_SOCKET_PATH) return inStore
  const id = createHash('sha256').update(resolve(storeDir)).digest('hex').slice(0, 16)
  return join(tmpdir(), `hypership-${id}.sock`)
}
