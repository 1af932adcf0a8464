import http, { type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { pipeline } from 'node:stream/promises'
import { inspectStream } from '../archive/inspector.js'
import { ErrorCodes, HypershipError, asHypershipError, hasCode } from '../errors.js'
import { isSha256, sha256 } from '../image/digest.js'
import { MAX_METADATA, parseManifest } from '../image/manifest.js'
import { isIndexType, isManifestType } from '../image/types.js'
import { validateImage } from '../image/validate.js'
import { logger } from '../log.js'
import type { ImageRecord } from '../store/image-db.js'
import type { Store } from '../store/store.js'
import type { Credentials } from './auth.js'
import { registryName, storeRepository, storeTag } from './names.js'
import { MAX_UPLOADS, Upload } from './uploads.js'

const debug = logger('registry')

/** Pulls images that are not local yet (names under a remote alias). */
export interface RemoteSource {
  /** True when the name's first component is an alias the user added. */
  handles(name: string): Promise<boolean>
  /** Fetches `name` by tag or digest from its share and returns the stored image. */
  pull(name: string, reference: string): Promise<ImageRecord>
}

/** What the endpoint serves and how it checks clients. */
export interface RegistryOptions {
  store: Store
  /** When set, every request needs HTTP Basic credentials from this list. */
  credentials?: Credentials
  remote?: RemoteSource
}

/** An OCI distribution error: HTTP status, spec code, message. */
class RegistryError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string
  ) {
    super(message)
  }
}

const MAX_CATALOG = 1000
/** Most bytes of a refused request body read and thrown away before the connection is cut. */
const MAX_DISCARD = 64 << 20

/**
 * The OCI Distribution API over the store, on node:http: pulls of every
 * stored image (manifests by tag or digest, blobs with HEAD and Range, tags
 * list, catalog), pushes (monolithic and chunked uploads, cross-mount,
 * manifest PUT) and, through `remote`, pulls from shares. docs/registry.md.
 */
export class RegistryServer {
  readonly #store: Store
  readonly #credentials: Credentials | undefined
  readonly #remote: RemoteSource | undefined
  readonly #uploads = new Map<string, Upload>()
  readonly #server: http.Server

  constructor(options: RegistryOptions) {
    this.#store = options.store
    this.#credentials = options.credentials
    this.#remote = options.remote
    this.#server = http.createServer((req, res) => void this.#handle(req, res))
    this.#server.keepAliveTimeout = 30_000
    this.#server.headersTimeout = 60_000
    // large blobs take long; a stalled client is cut by the idle timeout instead
    this.#server.requestTimeout = 0
    this.#server.timeout = 10 * 60_000
  }

  /** Uploads in progress. */
  get uploads(): number {
    return this.#uploads.size
  }

  /** Starts listening; resolves with the bound address. */
  async listen(host: string, port: number): Promise<{ host: string; port: number }> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject)
      this.#server.listen(port, host, () => {
        this.#server.off('error', reject)
        resolve()
      })
    })
    const addr = this.#server.address() as AddressInfo
    debug('registry listening on %s:%d', addr.address, addr.port)
    return { host: addr.address, port: addr.port }
  }

  /** Stops listening, aborts uploads in progress and waits for their writers. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()))
    this.#server.closeAllConnections()
    const uploads = [...this.#uploads.values()]
    for (const u of uploads) u.abort()
    await Promise.all(uploads.map((u) => u.settled()))
    await closed
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.setHeader('Docker-Distribution-Api-Version', 'registry/2.0')
    try {
      if (this.#credentials && !this.#credentials.check(req)) {
        res.setHeader('WWW-Authenticate', 'Basic realm="hypership"')
        throw new RegistryError(401, 'UNAUTHORIZED', 'authentication required')
      }
      await this.#route(req, res)
    } catch (err) {
      this.#fail(req, res, err)
    }
  }

  #fail(req: IncomingMessage, res: ServerResponse, err: unknown): void {
    const e = err instanceof RegistryError ? err : toRegistryError(err)
    debug('%s %s -> %d %s: %s', req.method, req.url, e.status, e.code, e.message)
    if (res.headersSent) {
      res.destroy()
      return
    }
    if (!req.complete) {
      // let the client finish sending (so it reads this reply instead of a
      // reset), discarding the body, then close; a client that never stops is cut off
      res.setHeader('Connection', 'close')
      let discarded = 0
      req.on('data', (chunk: Buffer) => {
        discarded += chunk.length
        if (discarded > MAX_DISCARD) req.destroy()
      })
      req.resume()
    }
    const body = JSON.stringify({ errors: [{ code: e.code, message: e.message, detail: {} }] })
    res.writeHead(e.status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) })
    res.end(req.method === 'HEAD' ? undefined : body)
  }

  async #route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://registry')
    const path = url.pathname
    const method = req.method ?? 'GET'
    let m: RegExpExecArray | null
    if (path === '/v2/' || path === '/v2') {
      return this.#json(res, method, 200, {})
    }
    if (path === '/v2/_catalog') {
      if (method !== 'GET') throw unsupported(method)
      return this.#catalog(url, res)
    }
    if ((m = /^\/v2\/(.+)\/tags\/list$/.exec(path))) {
      if (method !== 'GET') throw unsupported(method)
      return this.#tags(name(m[1]), url, res)
    }
    if ((m = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(path))) {
      const repo = name(m[1])
      const ref = decode(m[2])
      if (method === 'GET' || method === 'HEAD') return this.#getManifest(repo, ref, method, res)
      if (method === 'PUT') return this.#putManifest(repo, ref, req, res)
      throw unsupported(method)
    }
    if ((m = /^\/v2\/(.+)\/blobs\/uploads\/?([^/]*)$/.exec(path))) {
      const repo = name(m[1])
      const id = m[2] ?? ''
      if (id === '') {
        if (method !== 'POST') throw unsupported(method)
        return this.#startUpload(repo, url, req, res)
      }
      const upload = this.#uploads.get(id)
      if (!upload || upload.name !== repo) throw new RegistryError(404, 'BLOB_UPLOAD_UNKNOWN', `no upload ${id} for ${repo}`)
      if (method === 'GET') return this.#uploadStatus(upload, res, 204)
      if (method === 'PATCH') return this.#patch(upload, req, res)
      if (method === 'PUT') return this.#finishUpload(upload, url, req, res)
      if (method === 'DELETE') {
        upload.abort()
        res.writeHead(204).end()
        return
      }
      throw unsupported(method)
    }
    if ((m = /^\/v2\/(.+)\/blobs\/([^/]+)$/.exec(path))) {
      const repo = name(m[1])
      if (method === 'GET' || method === 'HEAD') return this.#getBlob(repo, decode(m[2]), method, req, res)
      throw unsupported(method)
    }
    throw new RegistryError(404, 'NAME_UNKNOWN', `no such endpoint: ${path.slice(0, 200)}`)
  }

  #json(res: ServerResponse, method: string, status: number, value: unknown, headers: Record<string, string> = {}): void {
    const body = JSON.stringify(value)
    res.writeHead(status, { ...headers, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) })
    res.end(method === 'HEAD' ? undefined : body)
  }

  /** Every registry name a stored tag can be pulled as, sorted. */
  async #repositories(): Promise<Map<string, string[]>> {
    const repos = new Map<string, string[]>()
    for (const rec of [...(await this.#store.images()), ...Object.values(await this.#store.indexes.read())]) {
      for (const t of rec.tags) {
        const r = registryName(t)
        if (!r) continue
        repos.set(r.name, [...(repos.get(r.name) ?? []), r.tag])
      }
    }
    return repos
  }

  async #catalog(url: URL, res: ServerResponse): Promise<void> {
    const all = [...(await this.#repositories()).keys()].sort()
    const { page, next } = paginate(all, url)
    const headers: Record<string, string> = next ? { Link: `</v2/_catalog?n=${page.length}&last=${encodeURIComponent(next)}>; rel="next"` } : {}
    this.#json(res, 'GET', 200, { repositories: page }, headers)
  }

  async #tags(repo: string, url: URL, res: ServerResponse): Promise<void> {
    const wanted = storeRepository(repo)
    const tags: string[] = []
    for (const rec of [...(await this.#store.images()), ...Object.values(await this.#store.indexes.read())]) {
      for (const t of rec.tags) if (t.slice(0, t.lastIndexOf(':')) === wanted) tags.push(t.slice(t.lastIndexOf(':') + 1))
    }
    if (tags.length === 0 && !(await this.#remote?.handles(repo))) throw new RegistryError(404, 'NAME_UNKNOWN', `no repository ${repo}`)
    const { page, next } = paginate(tags.sort(), url)
    const headers: Record<string, string> = next ? { Link: `</v2/${repo}/tags/list?n=${page.length}&last=${encodeURIComponent(next)}>; rel="next"` } : {}
    this.#json(res, 'GET', 200, { name: repo, tags: page }, headers)
  }

  /** The stored image or index `repo:ref` (tag or digest) names, pulling it from a share for alias names. */
  async #findManifest(repo: string, ref: string): Promise<{ digest: string; mediaType: string }> {
    if (await this.#remote?.handles(repo)) return this.#remote!.pull(repo, ref)
    const images = await this.#store.db.read()
    const indexes = await this.#store.indexes.read()
    if (isSha256(ref)) {
      const rec = images[ref] ?? indexes[ref]
      if (rec) return rec
    } else {
      const tag = storeTag(repo, ref)
      const rec = Object.values(images).find((r) => r.tags.includes(tag)) ?? Object.values(indexes).find((r) => r.tags.includes(tag))
      if (rec) return rec
    }
    throw new RegistryError(404, 'MANIFEST_UNKNOWN', `no manifest ${repo}:${ref}`)
  }

  async #getManifest(repo: string, ref: string, method: string, res: ServerResponse): Promise<void> {
    const rec = await this.#findManifest(repo, ref)
    const bytes = await this.#store.blobs.readBytes(rec.digest, MAX_METADATA)
    res.writeHead(200, {
      'Content-Type': rec.mediaType,
      'Content-Length': bytes.length,
      'Docker-Content-Digest': rec.digest,
      ETag: `"${rec.digest}"`
    })
    res.end(method === 'HEAD' ? undefined : bytes)
  }

  async #putManifest(repo: string, ref: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (await this.#remote?.handles(repo)) {
      throw new RegistryError(403, 'DENIED', `${repo} is under a remote alias; push under another name`)
    }
    const tag = isSha256(ref) ? undefined : storeTag(repo, ref)
    const bytes = await readBody(req, MAX_METADATA)
    const digest = sha256(bytes)
    if (!tag && digest !== ref) throw new RegistryError(400, 'DIGEST_INVALID', `the manifest hashes to ${digest}, not ${ref}`)
    const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim()
    if (isIndexType(type) || /"manifests"\s*:/.test(bytes.toString('utf8'))) return this.#putIndex(repo, tag, bytes, type, res)
    let manifest
    try {
      manifest = parseManifest(bytes, `${repo}:${ref}`)
    } catch (err) {
      throw new RegistryError(400, 'MANIFEST_INVALID', (err as Error).message)
    }
    if (type && isManifestType(type) && manifest.mediaType !== undefined && manifest.mediaType !== type) {
      throw new RegistryError(400, 'MANIFEST_INVALID', `Content-Type ${type} but the manifest says ${manifest.mediaType}`)
    }
    for (const desc of [manifest.config, ...manifest.layers]) {
      const entry = await this.#store.blobs.get(desc.digest)
      if (!entry) throw new RegistryError(400, 'MANIFEST_BLOB_UNKNOWN', `blob ${desc.digest} was never pushed`)
      if (entry.size !== desc.size) throw new RegistryError(400, 'MANIFEST_INVALID', `blob ${desc.digest} is ${entry.size} bytes, the manifest says ${desc.size}`)
    }
    const diffIds = await this.#diffIds(manifest.layers.map((l) => l.digest))
    const tx = await this.#store.beginImport()
    try {
      await validateImage(tx, bytes, `${repo}:${ref}`, (d) => diffIds.get(d))
      await tx.commit([{ names: tag ? [tag] : [], manifest: bytes }])
      if (tag) await this.#store.untagIndexes(tag)
    } catch (err) {
      await tx.abort().catch(() => {})
      if (err instanceof HypershipError && err.code !== ErrorCodes.IO && err.code !== ErrorCodes.DISK_FULL && err.code !== ErrorCodes.INTERNAL) {
        throw new RegistryError(400, 'MANIFEST_INVALID', err.message)
      }
      throw err
    }
    debug('pushed %s:%s as %s', repo, ref, digest)
    res.writeHead(201, { Location: `/v2/${repo}/manifests/${digest}`, 'Docker-Content-Digest': digest, 'Content-Length': 0 })
    res.end()
  }

  /**
   * The uncompressed digest of each layer, so a pushed image whose config
   * does not match its layers is refused like any other. Measured from the
   * stored bytes where the blob's index entry lacks it, and kept there.
   */
  async #diffIds(layers: string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>()
    for (const digest of new Set(layers)) {
      const entry = await this.#store.blobs.get(digest)
      if (!entry) continue
      let diffId = entry.diffId
      if (diffId === undefined) {
        try {
          diffId = (await inspectStream(this.#store.blobs.openEntry(entry), `layer ${digest}`)).diffId
        } catch (err) {
          if (hasCode(err, ErrorCodes.BAD_ARCHIVE) || hasCode(err, ErrorCodes.TOO_LARGE)) throw new RegistryError(400, 'MANIFEST_INVALID', (err as Error).message)
          throw err
        }
        await this.#store.blobs.index({ ...entry, diffId })
      }
      out.set(digest, diffId)
    }
    return out
  }

  async #putIndex(repo: string, tag: string | undefined, bytes: Buffer, type: string | undefined, res: ServerResponse): Promise<void> {
    const declared = (JSON.parse(bytes.toString('utf8')) as { mediaType?: unknown }).mediaType
    const mediaType = typeof declared === 'string' ? declared : type
    if (!isIndexType(mediaType)) throw new RegistryError(400, 'MANIFEST_INVALID', `an index needs an index media type, not ${String(mediaType)}`)
    const rec = await this.#store.putIndex(bytes, mediaType!, tag ? [tag] : []).catch((err: unknown) => {
      if (hasCode(err, ErrorCodes.IMAGE_NOT_FOUND)) throw new RegistryError(400, 'MANIFEST_BLOB_UNKNOWN', (err as Error).message)
      if (err instanceof HypershipError && (err.code === ErrorCodes.BAD_MANIFEST || err.code === ErrorCodes.UNSUPPORTED)) {
        throw new RegistryError(400, 'MANIFEST_INVALID', err.message)
      }
      throw err
    })
    debug('pushed index %s:%s as %s (%d manifests)', repo, tag ?? rec.digest, rec.digest, rec.manifests.length)
    res.writeHead(201, { Location: `/v2/${repo}/manifests/${rec.digest}`, 'Docker-Content-Digest': rec.digest, 'Content-Length': 0 })
    res.end()
  }

  async #getBlob(repo: string, digest: string, method: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!isSha256(digest)) throw new RegistryError(400, 'DIGEST_INVALID', `bad digest ${String(digest).slice(0, 80)}`)
    storeRepository(repo)
    const entry = await this.#store.blobs.get(digest)
    if (!entry) throw new RegistryError(404, 'BLOB_UNKNOWN', `no blob ${digest}`)
    const headers = { 'Docker-Content-Digest': digest, 'Accept-Ranges': 'bytes', 'Content-Type': 'application/octet-stream', ETag: `"${digest}"` }
    const range = parseRange(req.headers.range, entry.size)
    if (range === 'unsatisfiable') {
      res.writeHead(416, { 'Content-Range': `bytes */${entry.size}`, 'Content-Length': 0 })
      res.end()
      return
    }
    if (range) {
      res.writeHead(206, { ...headers, 'Content-Range': `bytes ${range.start}-${range.end}/${entry.size}`, 'Content-Length': range.end - range.start + 1 })
      if (method === 'HEAD') return void res.end()
      await pipeline(this.#store.blobs.openRange(entry, range.start, range.end), res)
      return
    }
    res.writeHead(200, { ...headers, 'Content-Length': entry.size })
    if (method === 'HEAD') return void res.end()
    // the whole blob is checked against its sha256 on the way; a damaged one ends the response early
    await pipeline(this.#store.blobs.openEntry(entry), res)
  }

  async #startUpload(repo: string, url: URL, req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (await this.#remote?.handles(repo)) throw new RegistryError(403, 'DENIED', `${repo} is under a remote alias; push under another name`)
    storeRepository(repo)
    const mount = url.searchParams.get('mount')
    if (mount && isSha256(mount) && (await this.#store.blobs.get(mount))) {
      // every blob is in one store, so any repository can mount it
      res.writeHead(201, { Location: `/v2/${repo}/blobs/${mount}`, 'Docker-Content-Digest': mount, 'Content-Length': 0 })
      res.end()
      return
    }
    if (this.#uploads.size >= MAX_UPLOADS) throw new RegistryError(429, 'TOOMANYREQUESTS', `more than ${MAX_UPLOADS} uploads in progress`)
    const upload = new Upload(this.#store, repo, () => this.#uploads.delete(upload.id))
    this.#uploads.set(upload.id, upload)
    const digest = url.searchParams.get('digest')
    if (digest !== null) {
      // monolithic: the body is the whole blob
      return this.#finishUpload(upload, url, req, res)
    }
    // a POST with a body but no digest is not in the spec; do not leave it unread
    req.resume()
    return this.#uploadStatus(upload, res, 202)
  }

  #uploadStatus(upload: Upload, res: ServerResponse, status: number): void {
    res.writeHead(status, {
      Location: `/v2/${upload.name}/blobs/uploads/${upload.id}`,
      Range: rangeOf(upload),
      'Docker-Upload-UUID': upload.id,
      'Content-Length': 0
    })
    res.end()
  }

  async #patch(upload: Upload, req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (upload.busy) throw new RegistryError(416, 'BLOB_UPLOAD_INVALID', `upload ${upload.id} is already receiving a chunk`)
    const header = req.headers['content-range']
    let end: number | undefined
    if (header !== undefined) {
      const cr = /^(\d+)-(\d+)$/.exec(String(header).replace(/^bytes[= ]/, ''))
      if (!cr || Number(cr[2]) < Number(cr[1])) throw new RegistryError(400, 'BLOB_UPLOAD_INVALID', `Content-Range must be START-END, not ${String(header)}`)
      if (Number(cr[1]) !== upload.offset) {
        res.setHeader('Range', rangeOf(upload))
        throw new RegistryError(416, 'BLOB_UPLOAD_INVALID', `chunk must start at ${upload.offset}`)
      }
      end = Number(cr[2])
      const length = req.headers['content-length']
      if (length !== undefined && Number(length) !== end - upload.offset + 1) {
        throw new RegistryError(400, 'BLOB_UPLOAD_INVALID', `Content-Range ${String(header)} is ${end - upload.offset + 1} bytes, Content-Length says ${length}`)
      }
    }
    await upload.append(req).catch((err: unknown) => {
      throw toRegistryError(err, 'BLOB_UPLOAD_INVALID')
    })
    if (end !== undefined && upload.offset !== end + 1) {
      res.setHeader('Range', rangeOf(upload))
      throw new RegistryError(400, 'BLOB_UPLOAD_INVALID', `the chunk ended at ${upload.offset - 1}, its Content-Range says ${end}`)
    }
    this.#uploadStatus(upload, res, 202)
  }

  async #finishUpload(upload: Upload, url: URL, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const digest = url.searchParams.get('digest') ?? ''
    if (!isSha256(digest)) {
      upload.abort()
      throw new RegistryError(400, 'DIGEST_INVALID', `bad digest ${String(digest).slice(0, 80)}`)
    }
    if (upload.busy) throw new RegistryError(416, 'BLOB_UPLOAD_INVALID', `upload ${upload.id} is already receiving a chunk`)
    await upload.append(req).catch((err: unknown) => {
      throw toRegistryError(err, 'BLOB_UPLOAD_INVALID')
    })
    const entry = await upload.finish(digest).catch((err: unknown) => {
      throw toRegistryError(err, 'BLOB_UPLOAD_INVALID')
    })
    debug('stored pushed blob %s (%d bytes) for %s', entry.digest, entry.size, upload.name)
    res.writeHead(201, { Location: `/v2/${upload.name}/blobs/${digest}`, 'Docker-Content-Digest': digest, 'Content-Length': 0 })
    res.end()
  }
}

function decode(raw: string | undefined): string {
  try {
    return decodeURIComponent(raw ?? '')
  } catch {
    throw new RegistryError(400, 'NAME_INVALID', 'malformed percent-encoding in the path')
  }
}

function name(raw: string | undefined): string {
  const n = decode(raw)
  try {
    storeRepository(n)
  } catch {
    throw new RegistryError(400, 'NAME_INVALID', `invalid repository name ${n.slice(0, 100)}`)
  }
  return n
}

function unsupported(method: string): RegistryError {
  return new RegistryError(405, 'UNSUPPORTED', `${method} is not supported here`)
}

function toRegistryError(err: unknown, fallback = 'UNKNOWN'): RegistryError {
  if (err instanceof RegistryError) return err
  const e = asHypershipError(err)
  switch (e.code) {
    case ErrorCodes.DIGEST_MISMATCH:
      return new RegistryError(400, 'DIGEST_INVALID', e.message)
    case ErrorCodes.SIZE_MISMATCH:
      return new RegistryError(400, 'SIZE_INVALID', e.message)
    case ErrorCodes.TOO_LARGE:
      return new RegistryError(413, 'SIZE_INVALID', e.message)
    case ErrorCodes.BAD_REFERENCE:
      return new RegistryError(400, 'NAME_INVALID', e.message)
    case ErrorCodes.IMAGE_NOT_FOUND:
      return new RegistryError(404, 'MANIFEST_UNKNOWN', e.message)
    case ErrorCodes.NO_PEERS:
    case ErrorCodes.STALLED:
      return new RegistryError(503, 'UNAVAILABLE', e.message)
    case ErrorCodes.DISK_FULL:
      return new RegistryError(507, 'UNKNOWN', e.message)
    case ErrorCodes.ABORTED:
      return new RegistryError(400, fallback, e.message)
    default:
      return new RegistryError(hasCode(e, ErrorCodes.INTERNAL) || fallback === 'UNKNOWN' ? 500 : 400, fallback, e.message)
  }
}

/**
 * Reads a request body of at most `max` bytes. A longer one is read to its
 * end and thrown away (up to MAX_DISCARD), so the client gets the 413
 * instead of a reset connection.
 */
async function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  const tooLarge = () => new RegistryError(413, 'SIZE_INVALID', `manifest is larger than ${max} bytes`)
  if (Number(req.headers['content-length'] ?? 0) > MAX_DISCARD) throw tooLarge()
  let parts: Buffer[] = []
  let n = 0
  for await (const chunk of req) {
    n += (chunk as Buffer).length
    if (n > MAX_DISCARD) throw tooLarge()
    if (n > max) parts = []
    else parts.push(chunk as Buffer)
  }
  if (n > max) throw tooLarge()
  return Buffer.concat(parts)
}

/** One `bytes=a-b` range (the only form clients use for blobs), clamped to the size. */
function parseRange(header: string | undefined, size: number): { start: number; end: number } | 'unsatisfiable' | undefined {
  if (!header) return undefined
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim())
  if (!m || (m[1] === '' && m[2] === '')) return undefined
  let start: number
  let end: number
  if (m[1] === '') {
    start = Math.max(size - Number(m[2]), 0)
    end = size - 1
  } else {
    start = Number(m[1])
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1)
  }
  if (start >= size || start > end) return 'unsatisfiable'
  return { start, end }
}

function paginate(all: string[], url: URL): { page: string[]; next?: string } {
  const last = url.searchParams.get('last')
  const n = Math.min(Number(url.searchParams.get('n') ?? MAX_CATALOG) || MAX_CATALOG, MAX_CATALOG)
  const after = last ? all.filter((x) => x > last) : all
  const page = after.slice(0, n)
  return after.length > n ? { page, next: page.at(-1) ?? '' } : { page }
}

/** An upload's `Range` header: the bytes it holds so far. */
function rangeOf(upload: Upload): string {
  return `0-${Math.max(upload.offset - 1, 0)}`
}
