import { open, type FileHandle } from 'node:fs/promises'
import { ErrorCodes, HypershipError } from '../errors.js'
import { DEFAULT_LIMITS } from './limits.js'
import { isRootName, safePath } from './path.js'

const BLOCK = 512
const MAX_LONG_NAME = 64 * 1024

function cstr(block: Buffer, start: number, length: number): string {
  const field = block.subarray(start, start + length)
  const end = field.indexOf(0)
  return field.subarray(0, end === -1 ? field.length : end).toString('utf8')
}

function numeric(block: Buffer, start: number, length: number): number {
  const field = block.subarray(start, start + length)
  if (((field[0] ?? 0) & 0x80) !== 0) {
    // GNU base-256 for sizes of 8 GiB and more.
    let value = (field[0] ?? 0) & 0x7f
    for (const byte of field.subarray(1)) value = value * 256 + byte
    return value
  }
  const text = cstr(block, start, length).trim()
  return text === '' ? 0 : parseInt(text, 8)
}

function checksumOk(block: Buffer): boolean {
  let sum = 0
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : (block[i] ?? 0)
  return sum === numeric(block, 148, 8)
}

function paxPath(body: Buffer): string | undefined {
  for (const line of body.toString('utf8').split('\n')) {
    const m = /^\d+ path=(.*)$/.exec(line)
    if (m?.[1] !== undefined) return m[1]
  }
  return undefined
}

async function readAt(fh: FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length)
  const { bytesRead } = await fh.read(buf, 0, length, position)
  return buf.subarray(0, bytesRead)
}

/**
 * Lists the normalised names of an uncompressed tar file's entries by
 * reading only the headers and seeking over the bodies. Stops after
 * `maxEntries`. Throws HS_ERR_BAD_ARCHIVE when the file is not a tar.
 */
export async function scanTarNames(path: string, maxEntries = DEFAULT_LIMITS.maxEntries): Promise<string[]> {
  const fh = await open(path, 'r')
  try {
    const names: string[] = []
    let offset = 0
    let longName: string | undefined
    while (names.length < maxEntries) {
      const block = await readAt(fh, offset, BLOCK)
      if (block.length < BLOCK || block.every((b) => b === 0)) break
      if (!checksumOk(block)) {
        if (offset === 0) throw new HypershipError(ErrorCodes.BAD_ARCHIVE, `${path}: not a tar file`)
        break
      }
      const size = numeric(block, 124, 12)
      const type = String.fromCharCode(block[156] ?? 0)
      const body = offset + BLOCK
      offset = body + Math.ceil(size / BLOCK) * BLOCK

      if (type === 'L' || type === 'x') {
        const meta = await readAt(fh, body, Math.min(size, MAX_LONG_NAME))
        longName = type === 'L' ? cstr(meta, 0, meta.length) : paxPath(meta)
        continue
      }
      if (type === 'g') continue
      const prefix = cstr(block, 257, 6) === 'ustar' ? cstr(block, 345, 155) : ''
      const name = longName ?? (prefix === '' ? cstr(block, 0, 100) : `${prefix}/${cstr(block, 0, 100)}`)
      longName = undefined
      if (isRootName(name)) continue
      names.push(safePath(name))
    }
    return names
  } finally {
    await fh.close()
  }
}
