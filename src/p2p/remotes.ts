import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ErrorCodes, HypershipError } from '../errors.js'
import { writeFileAtomic } from '../store/atomic.js'
import type { StoreLayout } from '../store/paths.js'
import { decodeShareKey } from './share-key.js'

/** An alias: one lowercase registry path component with no dot, never `library`. */
const ALIAS = /^[a-z0-9]+(?:(?:_|__|-+)[a-z0-9]+)*$/
const MAX_REMOTES_FILE = 1 << 20

/**
 * Share keys the user named (`remotes.json` in the store: `{alias: key}`),
 * so the registry endpoint can serve `ALIAS/app:v1` from that share.
 */
export async function readRemotes(layout: StoreLayout): Promise<Record<string, string>> {
  let raw: Buffer
  try {
    raw = await readFile(remotesFile(layout))
  } catch {
    return {}
  }
  if (raw.length > MAX_REMOTES_FILE) throw new HypershipError(ErrorCodes.STORE_CORRUPT, `${remotesFile(layout)} is too large`)
  try {
    const v = JSON.parse(raw.toString('utf8')) as unknown
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object')
    return Object.fromEntries(Object.entries(v).filter((e): e is [string, string] => typeof e[1] === 'string' && ALIAS.test(e[0])))
  } catch (err) {
    throw new HypershipError(ErrorCodes.STORE_CORRUPT, `${remotesFile(layout)} is damaged`, { cause: err })
  }
}

/** Names a share key; replaces what the alias named before and returns that key, if another. */
export async function addRemote(layout: StoreLayout, alias: string, key: string): Promise<string | undefined> {
  checkAlias(alias)
  decodeShareKey(key)
  const remotes = await readRemotes(layout)
  const before = remotes[alias]
  remotes[alias] = key
  await writeFileAtomic(remotesFile(layout), JSON.stringify(remotes, null, 1))
  return before === key ? undefined : before
}

/** Forgets an alias; HS_ERR_IMAGE_NOT_FOUND when there is none. */
export async function removeRemote(layout: StoreLayout, alias: string): Promise<void> {
  const remotes = await readRemotes(layout)
  if (!(alias in remotes)) throw new HypershipError(ErrorCodes.IMAGE_NOT_FOUND, `no remote named ${alias}`)
  delete remotes[alias]
  await writeFileAtomic(remotesFile(layout), JSON.stringify(remotes, null, 1))
}

/** Throws HS_ERR_BAD_REFERENCE unless `alias` can be the first part of a registry name. */
export function checkAlias(alias: string): void {
  if (!ALIAS.test(alias) || alias === 'library' || alias.length > 64) {
    throw new HypershipError(
      ErrorCodes.BAD_REFERENCE,
      `bad remote alias "${alias}": lowercase letters and digits, '-' or '_' between them, no dots, at most 64, not "library"`
    )
  }
}

function remotesFile(layout: StoreLayout): string {
  return join(layout.root, 'remotes.json')
}
