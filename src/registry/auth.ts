import { createHash, timingSafeEqual } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import type { IncomingMessage } from 'node:http'
import { ErrorCodes, HypershipError, wrap } from '../errors.js'

/** Users and passwords the registry accepts with HTTP Basic auth. */
export class Credentials {
  readonly #users = new Map<string, Buffer>()

  /** From `user:password` lines; throws HS_ERR_BAD_REFERENCE on a line without a colon. */
  static parse(lines: string, what: string): Credentials {
    const c = new Credentials()
    for (const [i, raw] of lines.split('\n').entries()) {
      const line = raw.replace(/\r$/, '')
      if (line.trim() === '' || line.startsWith('#')) continue
      const colon = line.indexOf(':')
      if (colon <= 0 || colon === line.length - 1) {
        throw new HypershipError(ErrorCodes.BAD_REFERENCE, `${what}, line ${i + 1}: expected user:password`)
      }
      c.#users.set(line.slice(0, colon), digest(line.slice(colon + 1)))
    }
    if (c.#users.size === 0) throw new HypershipError(ErrorCodes.BAD_REFERENCE, `${what}: no user:password given`)
    return c
  }

  /** From a file of `user:password` lines. */
  static async fromFile(path: string): Promise<Credentials> {
    const text = await readFile(path, 'utf8').catch((err: unknown) => {
      throw wrap(err, `reading credentials ${path}`)
    })
    return Credentials.parse(text, path)
  }

  /** True when the request carries a Basic authorization for a known user. */
  check(req: IncomingMessage): boolean {
    const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(req.headers.authorization ?? '')
    if (!m?.[1]) return false
    const decoded = Buffer.from(m[1], 'base64').toString('utf8')
    const colon = decoded.indexOf(':')
    if (colon < 0) return false
    const want = this.#users.get(decoded.slice(0, colon))
    const got = digest(decoded.slice(colon + 1))
    // compare even for unknown users, so timing does not tell which exist
    return timingSafeEqual(want ?? Buffer.alloc(32), got) && want !== undefined
  }
}

function digest(password: string): Buffer {
  return createHash('sha256').update(password).digest()
}
