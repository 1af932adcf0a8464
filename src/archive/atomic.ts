import { randomBytes } from 'node:crypto'
import { rmSync } from 'node:fs'
import { lstat, mkdir, readdir, readlink, realpath, rename, rm, rmdir, stat } from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'
import { ErrorCodes, HypershipError, wrap } from '../errors.js'

/** Temporary paths being filled now; removed if the process exits first (a second Ctrl-C). */
const pending = new Set<string>()
let exitHook = false

function removePendingNow(): void {
  for (const tmp of pending) rmSync(tmp, { recursive: true, force: true })
}

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
 * Where a file write to `target` really lands: a symlink is followed (also
 * one whose target does not exist yet), so it is its target that gets
 * replaced, not the link.
 */
async function followLinks(target: string): Promise<string> {
  let path = target
  for (let hops = 0; hops < 40; hops++) {
    const st = await lstat(path).catch(() => undefined)
    if (!st?.isSymbolicLink()) return path
    const real = await realpath(path).catch(() => undefined)
    if (real) return real
    path = resolve(dirname(path), await readlink(path))
  }
  throw new HypershipError(ErrorCodes.IO, `cannot write ${target}: too many levels of symbolic links`)
}

/**
 * Writes a file or directory all-or-nothing: `fill` writes a temporary path
 * beside `target`, which is then renamed into place; on any error the
 * temporary path is removed. A file target is replaced (through a symlink:
 * its target); a directory target must be absent or empty. A file target
 * that exists and is not a regular file (a device such as /dev/null, a FIFO,
 * a socket) is written straight through instead: there is nothing to rename
 * over it, and it must not be replaced by a file.
 */
export async function writeAtomically(target: string, kind: 'file' | 'dir', fill: (tmp: string) => Promise<void>): Promise<void> {
  if (kind === 'file') {
    // stat follows links as open() will, /proc's magic ones (/dev/stdout) included
    const existing = await stat(target).catch(() => undefined)
    if (existing?.isDirectory()) throw new HypershipError(ErrorCodes.IO, `cannot write ${target}: it is a directory`)
    if (existing && !existing.isFile()) {
      await fill(target).catch((err: unknown) => {
        throw err instanceof HypershipError ? err : wrap(err, `writing ${target}`)
      })
      return
    }
    target = await followLinks(target)
  }
  const parent = await stat(dirname(target)).catch(() => undefined)
  if (!parent?.isDirectory()) throw new HypershipError(ErrorCodes.IO, `cannot write ${target}: ${dirname(target)} is not a directory`)
  const tmp = tempBeside(target)
  pending.add(tmp)
  if (!exitHook) {
    exitHook = true
    process.once('exit', removePendingNow)
  }
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
  } finally {
    pending.delete(tmp)
  }
}
