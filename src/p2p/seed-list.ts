import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { writeFileAtomic } from '../store/atomic.js'
import type { Store } from '../store/store.js'

/**
 * Shares a store received and keeps seeding (`seeds.json` in the store):
 * the daemon re-seeds them after a restart and gc keeps their catalogs.
 */
export async function readSeedList(store: Store): Promise<string[]> {
  try {
    const keys = JSON.parse(await readFile(seedFile(store), 'utf8')) as unknown
    return Array.isArray(keys) ? keys.filter((k): k is string => typeof k === 'string') : []
  } catch {
    return []
  }
}

/** Adds a share key to the seed list (once). */
export async function addToSeedList(store: Store, key: string): Promise<void> {
  const keys = await readSeedList(store)
  if (!keys.includes(key)) await writeFileAtomic(seedFile(store), JSON.stringify([...keys, key]))
}

function seedFile(store: Store): string {
  return join(store.layout.root, 'seeds.json')
}
