import http from 'node:http'
import { PassThrough, type Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { ErrorCodes, HypershipError } from '../../errors.js'
import { logger } from '../../log.js'

const debug = logger('docker')
/** The most of an error body or an inspect answer we read. */
const MAX_BODY = 1 << 20
/** The longest line of a load's progress stream we keep. */
const MAX_LINE = 64 * 1024
/** The most messages of a load's progress stream we keep, of each kind. */
const MAX_MESSAGES = 100
/** How long a connection may sit silent (no headers, no body bytes) before we give up; not while a load runs. */
const IDLE_MS = 120_000
/** Where dockerd listens when DOCKER_HOST is unset. */
export const DEFAULT_DOCKER_HOST = 'unix:///var/run/docker.sock'

/** How to reach an engine: a unix socket, or plain http on a TCP port. */
export type EngineEndpoint = { socketPath: string; host?: undefined; port?: undefined } | { socketPath?: undefined; host: string; port: number }

/**
 * Parses a Docker host as `DOCKER_HOST` spells it: `unix:///path`, a bare
 * absolute socket path, or `tcp://HOST[:PORT]` (plain http; port 2375 by
 * default). TLS, ssh:// and npipe:// give HS_ERR_UNSUPPORTED.
 */
export function parseDockerHost(host: string, env: NodeJS.ProcessEnv = process.env): EngineEndpoint {
  if (host.startsWith('/')) return { socketPath: host }
  if (host.startsWith('unix://')) {
    const socketPath = host.slice('unix://'.length)
    if (!socketPath.startsWith('/')) throw new HypershipError(ErrorCodes.BAD_REFERENCE, `Docker host ${host}: the socket path must be absolute`)
    return { socketPath }
  }
  const tcp = /^(?:tcp|http):\/\/(\[[0-9a-fA-F:]+\]|[^:/[\]]+)(?::(\d{1,5}))?\/?$/.exec(host)
  if (tcp?.[1] !== undefined) {
    if (env.DOCKER_TLS_VERIFY) {
      // not yet: TLS engines (DOCKER_TLS_VERIFY, DOCKER_CERT_PATH); remove
      // this refusal when the engine client can present client certificates
      throw new HypershipError(ErrorCodes.UNSUPPORTED, `Docker host ${host}: TLS (DOCKER_TLS_VERIFY) is not supported yet; unset it for a plain-http engine`)
    }
    const port = tcp[2] === undefined ? 2375 : Number(tcp[2])
    if (port < 1 || port > 65535) throw new HypershipError(ErrorCodes.BAD_REFERENCE, `Docker host ${host}: bad port`)
    return { host: tcp[1].replace(/^\[|\]$/g, ''), port }
  }
  if (/^[a-z]+:\/\//.test(host)) {
    // not yet: ssh:// engine hosts (docker runs `docker system dial-stdio`
    // over ssh); remove this refusal when the engine client can do that
    throw new HypershipError(ErrorCodes.UNSUPPORTED, `Docker host ${host}: only unix:// sockets and tcp:// (plain http) are supported`)
  }
  throw new HypershipError(ErrorCodes.BAD_REFERENCE, `Docker host "${host}": expected unix:///PATH or tcp://HOST:PORT`)
}

/** The Docker host to use: `override` (a flag), else `DOCKER_HOST`, else the default socket. */
export function dockerHost(override?: string, env: NodeJS.ProcessEnv = process.env): string {
  return override || env.DOCKER_HOST || DEFAULT_DOCKER_HOST
}

/** What `/images/{name}/json` tells about an image. */
export interface EngineImage {
  /** The image ID: `sha256:` of the config. */
  Id: string
  RepoTags: string[] | null
  /** Uncompressed size in bytes. */
  Size: number
}

interface Response {
  status: number
  body: http.IncomingMessage
}

/**
 * A client of the Docker Engine API (dockerd, or podman's compatible
 * service) on one endpoint. Every failure is a HypershipError that names
 * the endpoint: HS_ERR_NO_ENGINE when nothing answers, HS_ERR_DOCKER when
 * the engine refuses, HS_ERR_IMAGE_NOT_FOUND for a missing image.
 *
 * Paths are unversioned, so every engine answers at its own API version: a
 * fixed old one (docker 20.10 speaks 1.41) is refused by engines whose
 * minimum is newer (Docker 29 wants 1.44), and the few fields read (Id,
 * Size, the load stream) are the same in every version.
 */
export class Engine {
  readonly endpoint: EngineEndpoint

  /** `host` as DOCKER_HOST spells it (default: `dockerHost()`). */
  constructor(readonly host: string = dockerHost()) {
    this.endpoint = parseDockerHost(host)
  }

  /** True when an engine answers `_ping`; never throws. */
  async ping(): Promise<boolean> {
    try {
      const res = await this.#request('GET', '/_ping', 5000)
      res.body.resume()
      return res.status === 200
    } catch {
      return false
    }
  }

  /** Inspects an image by name or ID; undefined when the engine has no such image. */
  async inspect(name: string): Promise<EngineImage | undefined> {
    const res = await this.#request('GET', `/images/${encodeURIComponent(name)}/json`)
    const text = await readCapped(res.body, MAX_BODY)
    if (res.status === 404) return undefined
    if (res.status !== 200) throw this.#refused(`inspecting ${name}`, res.status, text)
    try {
      const info = JSON.parse(text) as EngineImage
      if (typeof info.Id !== 'string') throw new Error('no Id')
      return info
    } catch (err) {
      throw new HypershipError(ErrorCodes.DOCKER, `the Docker Engine at ${this.host} sent a malformed answer inspecting ${name}`, { cause: err })
    }
  }

  /**
   * `docker save NAME`: the engine's docker-archive tar as a stream, as it
   * arrives. A missing image is HS_ERR_IMAGE_NOT_FOUND; a connection the
   * engine breaks off mid-stream errors the stream with HS_ERR_DOCKER.
   */
  async save(name: string): Promise<Readable> {
    const res = await this.#request('GET', `/images/get?names=${encodeURIComponent(name)}`)
    if (res.status !== 200) {
      const text = await readCapped(res.body, MAX_BODY)
      if (res.status === 404) {
        throw new HypershipError(ErrorCodes.IMAGE_NOT_FOUND, `the Docker Engine at ${this.host} has no image ${name}${reason(text)}`)
      }
      throw this.#refused(`saving ${name}`, res.status, text)
    }
    // not pipeline(): it would hand the reader the bare socket error, not ours
    const out = new PassThrough({ highWaterMark: 1 << 20 })
    res.body.on('error', (err) => {
      out.destroy(new HypershipError(ErrorCodes.DOCKER, `the Docker Engine at ${this.host} broke off sending ${name}: ${err.message}`, { cause: err }))
    })
    out.on('close', () => {
      if (!res.body.readableEnded) res.body.destroy()
    })
    res.body.pipe(out)
    return out
  }

  /**
   * `docker load`: streams `tar` (a docker-archive) into `/images/load`.
   * The engine answers 200 even when the load fails, so its progress
   * stream is read for errors, which come back in the engine's words as
   * HS_ERR_DOCKER. Returns the engine's "Loaded image…" lines. When `tar`
   * errors, the upload is cut short, so the engine loads nothing.
   */
  async load(tar: Readable): Promise<string[]> {
    let uploadError: unknown
    const sent = new Promise<Response>((resolve, reject) => {
      // a load may take minutes after the upload ends (extracting layers): no idle timeout
      const req = this.#raw('POST', `/images/load?quiet=1`, { 'Content-Type': 'application/x-tar' }, resolve, reject, 0)
      pipeline(tar, req).catch((err: unknown) => {
        uploadError ??= err
        req.destroy(err as Error)
        reject(this.#unreachable(err as NodeJS.ErrnoException))
      })
    })
    let res: Response
    try {
      res = await sent
    } catch (err) {
      // the archive failed (a blob did not check out, say), or the connection did (err: NO_ENGINE or DOCKER already)
      throw uploadError instanceof HypershipError ? uploadError : err
    }
    if (res.status !== 200) {
      tar.destroy()
      throw this.#refused('loading an image', res.status, await readCapped(res.body, MAX_BODY))
    }

    const loaded: string[] = []
    const errors: string[] = []
    try {
      for await (const line of ndjsonLines(res.body)) {
        let msg: { stream?: unknown; error?: unknown; errorDetail?: { message?: unknown }; message?: unknown }
        try {
          msg = JSON.parse(line) as typeof msg
        } catch {
          errors.push(line.slice(0, 500))
          continue
        }
        if (msg.error !== undefined || msg.errorDetail !== undefined) errors.push(String(msg.errorDetail?.message ?? msg.error ?? 'unknown error').slice(0, 500))
        else if (typeof msg.stream === 'string' && msg.stream.trim() !== '') loaded.push(...msg.stream.trim().split('\n'))
        else if (typeof msg.message === 'string') errors.push(msg.message.slice(0, 500))
        loaded.splice(MAX_MESSAGES)
        errors.splice(MAX_MESSAGES)
      }
    } catch (err) {
      if (uploadError === undefined) throw this.#broken(err)
    }
    if (uploadError !== undefined) throw uploadError instanceof HypershipError ? uploadError : this.#broken(uploadError)
    if (errors.length > 0) throw new HypershipError(ErrorCodes.DOCKER, `the Docker Engine at ${this.host} failed to load the image: ${errors.join('; ')}`)
    debug('engine %s loaded: %o', this.host, loaded)
    return loaded
  }

  #broken(err: unknown): HypershipError {
    if (err instanceof HypershipError) return err
    return new HypershipError(ErrorCodes.DOCKER, `the Docker Engine at ${this.host} broke off the connection: ${(err as Error).message}`, { cause: err })
  }

  #refused(doing: string, status: number, body: string): HypershipError {
    return new HypershipError(ErrorCodes.DOCKER, `the Docker Engine at ${this.host} refused ${doing}: HTTP ${status}${reason(body)}`)
  }

  #request(method: string, path: string, idleMs = IDLE_MS): Promise<Response> {
    return new Promise((resolve, reject) => this.#raw(method, path, {}, resolve, reject, idleMs).end())
  }

  #raw(
    method: string,
    path: string,
    headers: Record<string, string>,
    resolve: (r: Response) => void,
    reject: (e: unknown) => void,
    idleMs: number
  ): http.ClientRequest {
    const where = this.endpoint.socketPath !== undefined ? { socketPath: this.endpoint.socketPath } : { host: this.endpoint.host, port: this.endpoint.port }
    debug('%s %s %s', this.host, method, path)
    const req = http.request({ ...where, method, path, headers: { Host: 'docker', ...headers }, agent: false }, (body) => {
      resolve({ status: body.statusCode ?? 0, body })
    })
    req.on('error', (err: NodeJS.ErrnoException) => reject(this.#unreachable(err)))
    if (idleMs > 0) {
      req.setTimeout(idleMs, () => {
        req.destroy(new HypershipError(ErrorCodes.DOCKER, `the Docker Engine at ${this.host} sent nothing for ${idleMs / 1000} s (${method} ${path.split('?')[0]})`))
      })
    }
    return req
  }

  #unreachable(err: NodeJS.ErrnoException): HypershipError {
    if (err instanceof HypershipError) return err
    const code = err.code ?? ''
    if (['ENOENT', 'ECONNREFUSED', 'EACCES', 'EPERM', 'ENOTSOCK', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT'].includes(code)) {
      const why = {
        ENOENT: 'no socket there',
        ECONNREFUSED: 'connection refused',
        EACCES: 'permission denied',
        EPERM: 'permission denied'
      }[code] ?? err.message
      return new HypershipError(
        ErrorCodes.NO_ENGINE,
        `no Docker Engine answers at ${this.host} (${why}); start dockerd or \`podman system service\`, or point DOCKER_HOST at one`,
        { cause: err }
      )
    }
    return this.#broken(err)
  }
}

/** The engine's own words from an error body (`{"message": …}`), as ": words", or "". */
function reason(body: string): string {
  const text = body.trim()
  if (text === '') return ''
  try {
    const msg = (JSON.parse(text) as { message?: unknown }).message
    if (typeof msg === 'string' && msg !== '') return `: ${msg.slice(0, 500)}`
  } catch {
    // not JSON: plain text
  }
  return `: ${text.slice(0, 500)}`
}

/** Reads a body as UTF-8, keeping at most `max` bytes (the rest is drained). */
async function readCapped(body: Readable, max: number): Promise<string> {
  const chunks: Buffer[] = []
  let kept = 0
  for await (const chunk of body as AsyncIterable<Buffer>) {
    if (kept >= max) continue
    chunks.push(chunk.subarray(0, max - kept))
    kept += Math.min(chunk.length, max - kept)
  }
  return Buffer.concat(chunks).toString('utf8')
}

/** The non-empty lines of a newline-delimited JSON stream; over-long lines are cut at MAX_LINE. */
async function* ndjsonLines(body: Readable): AsyncGenerator<string> {
  let line = ''
  body.setEncoding('utf8')
  for await (const chunk of body as AsyncIterable<string>) {
    let from = 0
    for (let nl = chunk.indexOf('\n'); nl !== -1; nl = chunk.indexOf('\n', from)) {
      line += chunk.slice(from, nl)
      if (line.trim() !== '') yield line.slice(0, MAX_LINE)
      line = ''
      from = nl + 1
    }
    if (line.length < MAX_LINE) line += chunk.slice(from, from + MAX_LINE - line.length)
  }
  if (line.trim() !== '') yield line
}
