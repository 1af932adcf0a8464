/**
 * The control protocol between the CLI and the daemon: newline-delimited
 * JSON over a unix socket that only the owner can open. A request names a
 * method; the daemon answers with any number of events, then exactly one
 * result or error, all carrying the request's id.
 */
export interface Request {
  id: number
  method: string
  params?: unknown
}

export type Reply =
  | { id: number; event: unknown }
  | { id: number; result: unknown }
  | { id: number; error: { code: string; message: string } }

/** The largest line either side accepts. */
export const MAX_LINE = 1 << 20

/** Splits a byte stream into JSON lines, refusing any over MAX_LINE. */
export function lineReader(onLine: (value: unknown) => void, onError: (err: Error) => void): (chunk: Buffer) => void {
  let buf = ''
  return (chunk) => {
    buf += chunk.toString('utf8')
    for (let nl = buf.indexOf('\n'); nl !== -1; nl = buf.indexOf('\n')) {
      const line = buf.slice(0, nl)
      buf = buf.slice(nl + 1)
      if (!line.trim()) continue
      try {
        onLine(JSON.parse(line))
      } catch (err) {
        onError(err as Error)
        return
      }
    }
    if (buf.length > MAX_LINE) onError(new Error('control message too large'))
  }
}
