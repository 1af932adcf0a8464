import { link, open, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import crypto from 'hypercore-crypto'
import id from 'hypercore-id-encoding'
import { ErrorCodes, HypershipError } from '../errors.js'
import { logger } from '../log.js'
import { syncDir } from '../store/atomic.js'

const debug = logger('p2p')

/** A peer's ed25519 key pair: the swarm's Noise key, so a connection's remote public key is its identity. */
export interface Identity {
  publicKey: Buffer
  secretKey: Buffer
}

/** The file, in the store directory, that holds the store's identity (mode 0600). */
export const IDENTITY_FILE = 'identity.json'

/**
 * The persistent identity of the store at `root`, created on first use. The
 * file appears whole or not at all (temp file, fsync, link) and only its
 * owner can read it; two processes racing to create it agree on the winner.
 */
export async function loadIdentity(root: string): Promise<Identity> {
  const path = join(root, IDENTITY_FILE)
  const existing = await readIdentity(path)
  if (existing) return existing
  const pair = crypto.keyPair()
  const tmp = join(root, `.tmp-identity-${process.pid}-${pair.publicKey.toString('hex').slice(0, 8)}`)
  const fh = await open(tmp, 'wx', 0o600).catch((err: unknown) => {
    throw new HypershipError(ErrorCodes.IO, `cannot create ${path}: ${(err as Error).message}`, { cause: err })
  })
  try {
    await fh.writeFile(JSON.stringify({ v: 1, publicKey: pair.publicKey.toString('hex'), secretKey: pair.secretKey.toString('hex') }))
    await fh.sync()
  } finally {
    await fh.close()
  }
  try {
    // link, unlike rename, never replaces: whoever links first wins
    await link(tmp, path).then(
      () => debug('created identity %s', encodePeerId(pair.publicKey)),
      (err: NodeJS.ErrnoException) => {
        if (err.code !== 'EEXIST') throw new HypershipError(ErrorCodes.IO, `cannot create ${path}: ${err.message}`, { cause: err })
      }
    )
  } finally {
    await rm(tmp, { force: true })
  }
  await syncDir(root)
  const created = await readIdentity(path)
  if (!created) throw new HypershipError(ErrorCodes.IO, `${path} vanished while it was created`)
  return created
}

async function readIdentity(path: string): Promise<Identity | undefined> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new HypershipError(ErrorCodes.IO, `cannot read ${path}: ${(err as Error).message}`, { cause: err })
  }
  try {
    const j = JSON.parse(text) as { publicKey?: unknown; secretKey?: unknown }
    if (typeof j.publicKey === 'string' && typeof j.secretKey === 'string') {
      const pair = { publicKey: Buffer.from(j.publicKey, 'hex'), secretKey: Buffer.from(j.secretKey, 'hex') }
      if (pair.publicKey.length === 32 && pair.secretKey.length === 64 && crypto.validateKeyPair(pair)) return pair
    }
  } catch {
    // reported below
  }
  throw new HypershipError(ErrorCodes.STORE_CORRUPT, `${path} is not a valid identity; move it away to get a new one (peers that allowed the old one will refuse you)`)
}

/** A peer identity as people pass it around: z-base32, like share keys. */
export function encodePeerId(publicKey: Buffer): string {
  return id.encode(publicKey)
}

/** Decodes a peer identity (z-base32 or 64 hex characters). */
export function decodePeerId(text: string): Buffer {
  const trimmed = text.trim()
  try {
    const key = /^[0-9a-f]{64}$/i.test(trimmed) ? Buffer.from(trimmed, 'hex') : id.decode(trimmed)
    if (key.length === 32) return key
  } catch {
    // fall through
  }
  throw new HypershipError(ErrorCodes.BAD_KEY, `"${trimmed.slice(0, 80)}" is not a peer identity (expected 52 z-base32 characters, as \`hypership id\` prints)`)
}
