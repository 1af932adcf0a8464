import { posix } from 'node:path'
import { ErrorCodes, HypershipError } from '../errors.js'

/**
 * Archive entry names come from whoever made the archive, so every name is
 * normalised and checked before it is used as a map key or a file path.
 */

function refuse(name: string, why: string): HypershipError {
  return new HypershipError(ErrorCodes.BAD_ARCHIVE, `archive entry ${JSON.stringify(name)}: ${why}`)
}

/** True for the names tar gives the archive root itself (`.`, `./`). */
export function isRootName(name: string): boolean {
  return /^(\.\/?)+$/.test(name) || name === '/'
}

/**
 * Normalises an entry name to `a/b/c`: strips leading `./`, a trailing `/`
 * and `.` components. Refuses NUL, absolute names, `..` and empty names
 * with HS_ERR_BAD_ARCHIVE.
 */
export function safePath(name: string): string {
  if (name.includes('\0')) throw refuse(name, 'contains a NUL byte')
  if (name.startsWith('/')) throw refuse(name, 'is an absolute path')

  const parts: string[] = []
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue
    if (part === '..') throw refuse(name, 'contains a ".." component')
    parts.push(part)
  }
  if (parts.length === 0) throw refuse(name, 'is empty')
  return parts.join('/')
}

/**
 * Where a link entry points, as a safe archive path. Symlink targets are
 * relative to the link's own directory; hard link targets are relative to
 * the archive root. A target that leaves the archive is refused.
 */
export function linkTarget(entry: string, target: string, kind: 'symlink' | 'hardlink'): string {
  if (target.includes('\0')) throw refuse(entry, 'link target contains a NUL byte')
  if (target.startsWith('/')) throw refuse(entry, `link points outside the archive (${target})`)

  const joined = kind === 'symlink' ? posix.join(posix.dirname(entry), target) : posix.normalize(target)
  if (joined === '..' || joined.startsWith('../')) {
    throw refuse(entry, `link points outside the archive (${target})`)
  }
  return safePath(joined)
}
