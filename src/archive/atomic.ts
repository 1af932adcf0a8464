import { randomBytes } from 'node:crypto'
import { mkdir, readdir, rename, rm, rmdir, stat } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { ErrorCodes, HypershipError, wrap } from '../errors.js'

function tempBeside(target: string): string {
  return join(dirname(target), `.${basename(target)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`)
}

async function isEmptyDir(path: string): Promise<boolean | undefined> {
  try {
    return (await readdir(path)).length === 0
  } catch (err) {
    const code = (err as { code?: unknown }).code
    if (code === 'ENOENT') return undefined
    if (code === 'ENOTDIR') return false
    throw err
  }
}

/**
 * Writes a file or directory all-or-nothing: `fill` writes a temporary path
 * beside `target`, which is then renamed into place; on any error the
 * temporary path is removed. A file target is replaced; a directory target
 * must be absent or empty.
 */
export async function writeAtomically(target: string, kind: 'file' | 'dir', fill: (tmp: string) => Promise<void>): Promise<void> {
  const parent = await stat(dirname(target)).catch(() => undefined)
  if (!parent?.isDirectory()) throw new HypershipError(ErrorCodes.IO, `cannot write ${target}: ${dirname(target)} is not a directory`)
  const tmp = tempBeside(target)
  try {
    if (kind === 'dir') await mkdir(tmp)
    await fill(tmp)
    if (kind === 'dir') {
      const empty = await isEmptyDir(target)
      if (empty === false) {
        throw new HypershipError(ErrorCodes.IO, `${target} already exists and is not an empty directory; refusing to replace it`)
      }
      if (empty === true) await rmdir(target)
    }
    await rename(tmp, target)
  } catch (err) {
    await rm(tmp, { recursive: true, force: true })
    throw err instanceof HypershipError ? err : wrap(err, `writing ${target}`)
  }
}
