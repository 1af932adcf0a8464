import { createReadStream } from 'node:fs'
import http from 'node:http'
import { ErrorCodes, HypershipError } from '../../errors.js'
import { logger } from '../../log.js'

const debug = logger('docker')
/** Engine API version spoken: old enough for Debian's docker 20.10. */
const API = 'v1.41'
/** The most of an engine response body we read. */
const MAX_BODY = 1 << 20

/** Where the Docker Engine listens: `DOCKER_HOST` (unix:// only) or the default socket. */
export function dockerSocket(env: NodeJS.ProcessEnv = process.env): string {
  const host = env.DOCKER_HOST
  if (!host) return '/var/run/docker.sock'
  if (host.startsWith('unix://')) return host.slice('unix://'.length)
  // TODO(#5): tcp:// and ssh:// engine hosts.
  throw new HypershipError(ErrorCodes.UNSUPPORTED, `DOCKER_HOST=${host}: only unix:// sockets are supported`)
}

interface Reply {
  status: number
  body: string
}

function request(socketPath: string, method: string, path: string, body?: NodeJS.ReadableStream): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, method, path, headers: body ? { 'Content-Type': 'application/x-tar' } : {} }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        if (text.length < MAX_BODY) text += chunk
      })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }))
      res.on('error', reject)
    })
    req.on('error', (err) =>
      reject(new HypershipError(ErrorCodes.DOCKER, `cannot reach the Docker Engine at ${socketPath}: ${err.message}`, { cause: err }))
    )
    if (body) body.pipe(req)
    else req.end()
  })
}

/**
 * `docker load -i FILE` through the Engine API. The engine answers 200 even
 * when the load fails, so the streamed JSON messages are read for errors.
 * Returns the engine's "Loaded image…" lines.
 */
export async function loadArchive(file: string, socketPath = dockerSocket()): Promise<string[]> {
  const reply = await request(socketPath, 'POST', `/${API}/images/load?quiet=1`, createReadStream(file))
  const loaded: string[] = []
  const errors: string[] = []
  for (const line of reply.body.split('\n')) {
    if (!line.trim()) continue
    try {
      const msg = JSON.parse(line) as { stream?: string; error?: string; errorDetail?: { message?: string }; message?: string }
      if (msg.error || msg.errorDetail) errors.push(msg.errorDetail?.message ?? msg.error ?? 'unknown error')
      else if (msg.stream?.trim()) loaded.push(msg.stream.trim())
      else if (msg.message) errors.push(msg.message)
    } catch {
      errors.push(line.slice(0, 500))
    }
  }
  if (reply.status !== 200 || errors.length > 0) {
    throw new HypershipError(ErrorCodes.DOCKER, `docker load failed: ${errors.join('; ') || `HTTP ${reply.status}`}`)
  }
  debug('engine loaded: %o', loaded)
  return loaded
}
