import { Readable } from 'node:stream'
import tar, { type Header } from 'tar-stream'
import { ErrorCodes, HypershipError, wrap } from '../errors.js'
import type { Budget } from './limits.js'
import { isRootName, linkTarget, safePath } from './path.js'

/** One checked entry of a tar archive. */
export interface TarEntry {
  /** Normalised, safe path inside the archive. */
  readonly path: string
  readonly kind: 'file' | 'directory' | 'symlink' | 'hardlink' | 'other'
  readonly size: number
  /** For links: the safe archive path the link points at. */
  readonly target?: string
  /** The body as a Node stream; call at most once and consume it to the end. */
  stream(): Readable
  /** Reads the whole body; HS_ERR_TOO_LARGE when it is over `max` bytes. */
  buffer(max: number): Promise<Buffer>
}

type Source = AsyncIterable<Buffer> & { header: Header }

function kindOf(type: Header['type']): TarEntry['kind'] {
  if (type === 'file' || type === 'contiguous-file') return 'file'
  if (type === 'directory') return 'directory'
  if (type === 'symlink') return 'symlink'
  if (type === 'link') return 'hardlink'
  return 'other'
}

class Entry implements TarEntry {
  readonly path: string
  readonly kind: TarEntry['kind']
  readonly size: number
  readonly target?: string
  touched = false

  constructor(readonly source: Source) {
    const h = source.header
    this.path = safePath(h.name)
    this.kind = kindOf(h.type)
    this.size = this.kind === 'file' ? h.size : 0
    if (this.kind === 'symlink' || this.kind === 'hardlink') {
      this.target = linkTarget(this.path, h.linkname ?? '', this.kind)
    }
  }

  stream(): Readable {
    this.touched = true
    return Readable.from(this.source, { objectMode: false })
  }

  async buffer(max: number): Promise<Buffer> {
    if (this.size > max) {
      throw new HypershipError(ErrorCodes.TOO_LARGE, `archive entry ${this.path}: ${this.size} bytes is over the ${max}-byte cap`)
    }
    this.touched = true
    const chunks: Buffer[] = []
    for await (const chunk of this.source) chunks.push(chunk)
    return Buffer.concat(chunks)
  }
}

/** Reads and discards an entry body the handler did not want. */
async function drain(source: Source): Promise<void> {
  for await (const chunk of source) void chunk
}

/**
 * Reads a tar stream once, front to back, calling `onEntry` for each entry
 * (the archive root entry is skipped). Bodies the handler leaves alone are
 * skipped. Unsafe names, a truncated or malformed tar give
 * HS_ERR_BAD_ARCHIVE; more than the budget's entries give HS_ERR_TOO_LARGE.
 */
export async function walkTar(
  input: Readable,
  what: string,
  budget: Budget,
  onEntry: (entry: TarEntry) => Promise<void>
): Promise<void> {
  const extract = tar.extract()
  let inputError: Error | undefined
  let tarError: Error | undefined
  extract.on('error', (err: Error) => {
    tarError ??= err
  })
  input.on('error', (err) => {
    inputError ??= err
    extract.destroy(err)
  })
  input.pipe(extract as unknown as NodeJS.WritableStream)

  try {
    for await (const source of extract as AsyncIterable<Source>) {
      budget.countEntry(what)
      if (source.header.type === 'directory' && isRootName(source.header.name)) {
        await drain(source)
        continue
      }
      const entry = new Entry(source)
      await onEntry(entry)
      if (!entry.touched) await drain(source)
    }
  } catch (err) {
    input.destroy()
    extract.destroy()
    await new Promise((resolve) => setImmediate(resolve))
    throw classify(err, what, inputError, tarError)
  }
}

function classify(err: unknown, what: string, inputError?: Error, tarError?: Error): HypershipError {
  if (inputError !== undefined) return wrap(inputError, `reading ${what}`)
  if (err instanceof HypershipError && err.code !== ErrorCodes.INTERNAL) return err
  const tarFault = tarError !== undefined && !(tarError instanceof HypershipError) ? tarError : undefined
  const fault = tarFault ?? (err instanceof HypershipError ? undefined : (err as Error))
  if (fault !== undefined && isTarFault(fault)) {
    const why = /unexpected end/i.test(fault.message) ? 'truncated archive' : fault.message
    return new HypershipError(ErrorCodes.BAD_ARCHIVE, `${what}: ${why}`, { cause: err })
  }
  return wrap(err, `reading ${what}`)
}

function isTarFault(err: Error): boolean {
  return /unexpected end of data|invalid tar header|unknown format|premature close/i.test(err.message)
}
