import { homedir } from 'node:os'
import { join } from 'node:path'

/**
 * The store directory: `--store` wins, then `HYPERSHIP_HOME`, then
 * `$XDG_DATA_HOME/hypership`, then `~/.local/share/hypership`.
 */
export function defaultStoreDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.HYPERSHIP_HOME) return env.HYPERSHIP_HOME
  const data = env.XDG_DATA_HOME || join(homedir(), '.local', 'share')
  return join(data, 'hypership')
}

/** Where each part of a store lives, relative to its root. */
export function storeLayout(root: string) {
  return {
    root,
    version: join(root, 'VERSION'),
    cores: join(root, 'cores'),
    blobIndex: join(root, 'blobs', 'sha256'),
    images: join(root, 'images.json'),
    indexes: join(root, 'indexes.json'),
    journal: join(root, 'journal'),
    shares: join(root, 'shares'),
    tmp: join(root, 'tmp')
  }
}

export type StoreLayout = ReturnType<typeof storeLayout>
