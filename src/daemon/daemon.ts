import { chmod, rm } from 'node:fs/promises'
import net from 'node:net'
import { ErrorCodes, HypershipError, asHypershipError, wrap } from '../errors.js'
import { logger } from '../log.js'
import { loadImages, loadIntoDocker, saveImages } from '../ops/images.js'
import { collectGarbage } from '../ops/gc.js'
import { rotateShare, shareImages } from '../ops/share.js'
import { unshareImages } from '../ops/unshare.js'
import { verifyImages } from '../ops/verify.js'
import { type ReceiveEvent, type ReceiveOptions, receive } from '../p2p/receive.js'
import { encodePeerId, loadIdentity } from '../p2p/identity.js'
import { Seeder, type SeedStatus } from '../p2p/seeder.js'
import { readSeedList } from '../p2p/seed-list.js'
import { listShares } from '../p2p/share.js'
import { decodeShareKey } from '../p2p/share-key.js'
import { type NetworkStatus, networkStatus, openSwarm } from '../p2p/swarm.js'
import { Store } from '../store/store.js'
import { Credentials } from '../registry/auth.js'
import type { ListenAddress } from '../registry/listen.js'
import { SharePuller } from '../registry/remote.js'
import { RegistryServer } from '../registry/server.js'
import { type Reply, type Request, lineReader } from './protocol.js'
import { daemonSocketPath, makeSocketDir, ownSocket } from './socket-path.js'

const debug = logger('daemon')

export interface DaemonOptions {
  storeDir: string
  bootstrap?: string[]
  /** LAN discovery (default: on without bootstrap nodes); docs/lan.md. */
  lan?: boolean
  /** The LAN fast path (default on). */
  fastPath?: boolean
  /** Detect NAT on a private DHT (see NetworkOptions.nat). */
  nat?: boolean
  /** A blind relay's public key (see NetworkOptions.relay). */
  relay?: Buffer
  /** Serve the OCI Distribution API here (docs/registry.md); off when absent. */
  registry?: RegistryConfig
}

/** The registry endpoint's settings. */
export interface RegistryConfig {
  listen: ListenAddress
  /** `user:password` lines; when given (or a file), requests need Basic auth. */
  credentials?: string
  credentialsFile?: string
  /** How long an alias pull looks for peers, in ms. */
  findTimeout?: number
}

/** What `hypership status` shows. */
export interface DaemonStatus {
  pid: number
  store: string
  socket: string
  startedAt: string
  connections: number
  /** This peer's identity (z-base32), what others put in `--allow`. */
  id: string
  shares: SeedStatus[]
  uploadedBytes: number
  downloadedBytes: number
  /** Bytes per second over the last few seconds. */
  uploadRate: number
  downloadRate: number
  /** LAN discovery and which transports carry replication (docs/lan.md). */
  network: NetworkStatus
  /** `http://HOST:PORT` of the registry endpoint, when it runs. */
  registry?: string
}

type Handler = (params: any, emit: (event: unknown) => void, signal: AbortSignal) => Promise<unknown>

/**
 * The long-running hypership: owns the store, seeds every share it created
 * or received (and keeps doing so across restarts: received keys are kept
 * in `seeds.json`), and serves the CLI on an owner-only unix socket.
 */
export class Daemon {
  readonly socketPath: string
  readonly #store: Store
  readonly #seeder: Seeder
  readonly #server: net.Server
  readonly #startedAt = new Date().toISOString()
  readonly #stopped: Promise<void>
  #stop: () => void = () => {}
  #downloaded = 0
  #receiving = 0
  #registry: RegistryServer | undefined
  #registryUrl: string | undefined
  readonly #handlers: Record<string, Handler>

  private constructor(store: Store, seeder: Seeder, socketPath: string) {
    this.#store = store
    this.#seeder = seeder
    this.socketPath = socketPath
    this.#stopped = new Promise((resolve) => (this.#stop = resolve))
    this.#server = net.createServer((sock) => this.#serve(sock))
    this.#handlers = {
      share: (p: { sources: string[]; add?: string; allow?: string[]; rotate?: string; dockerHost?: string }) =>
        p.rotate
          ? rotateShare(this.#store, this.#seeder, p.rotate, p.allow)
          : shareImages(this.#store, this.#seeder, p.sources, {
              ...(p.add ? { add: p.add } : {}),
              ...(p.allow ? { allow: p.allow } : {}),
              ...(p.dockerHost ? { dockerHost: p.dockerHost } : {})
            }),
      id: async () => ({ id: encodePeerId(this.#seeder.swarm.keyPair.publicKey) }),
      receive: (p: { key: string; select?: string[]; findTimeout?: number; stallTimeout?: number }, emit, signal) => this.#receive(p, emit, signal),
      // dockerHost comes from the CLI's flags and environment, not the daemon's
      save: (p: { images: string[]; output: string; dockerHost?: string }) => saveImages(this.#store, p.images, p.output, { dockerHost: p.dockerHost }),
      load: (p: { input: string; dockerHost?: string }) => loadImages(this.#store, p.input, { dockerHost: p.dockerHost }),
      'docker-load': async (p: { images: string[]; dockerHost?: string; socket?: string }) =>
        loadIntoDocker(this.#store, await Promise.all(p.images.map((i) => this.#store.resolve(i))), p.dockerHost ?? p.socket),
      rm: (p: { image: string }) => this.#store.remove(p.image),
      unshare: (p: { key: string; images?: string[] }) => unshareImages(this.#store, this.#seeder, p.key, p.images ?? []),
      verify: (p: { images?: string[] }) => verifyImages(this.#store, p.images ?? []),
      gc: async () => {
        if ((this.#registry?.uploads ?? 0) > 0) throw new HypershipError(ErrorCodes.STORE_BUSY, 'a registry push is in progress; run gc when it is done')
        if (this.#receiving > 0) throw new HypershipError(ErrorCodes.STORE_BUSY, 'a receive is in progress; run gc when it is done')
        return collectGarbage(this.#store)
      },
      status: async () => this.status(),
      stop: async () => {
        setImmediate(() => this.#stop())
        return { stopping: true }
      }
    }
  }

  /** Opens the store, resumes seeding, and starts listening. */
  static async start(options: DaemonOptions): Promise<Daemon> {
    const socketPath = daemonSocketPath(options.storeDir)
    await claimSocket(socketPath)
    const store = await Store.open(options.storeDir)
    const keyPair = await loadIdentity(store.layout.root).catch(async (err: unknown) => {
      await store.close()
      throw err
    })
    const { storeDir: _dir, registry: _registry, ...network } = options
    const seeder = new Seeder(store, await openSwarm({ ...network, keyPair }))
    const daemon = new Daemon(store, seeder, socketPath)
    try {
      await daemon.#resume()
      if (options.registry) await daemon.#startRegistry(options.registry)
      await new Promise<void>((resolve, reject) => {
        daemon.#server.once('error', reject)
        daemon.#server.listen(socketPath, resolve)
      })
      await chmod(socketPath, 0o600)
    } catch (err) {
      await daemon.close()
      throw err
    }
    debug('daemon listening on %s', socketPath)
    return daemon
  }

  /** Resolves when a client asked the daemon to stop. */
  stopped(): Promise<void> {
    return this.#stopped
  }

  status(): DaemonStatus {
    const traffic = this.#seeder.traffic()
    return {
      pid: process.pid,
      store: this.#store.layout.root,
      socket: this.socketPath,
      startedAt: this.#startedAt,
      connections: this.#seeder.swarm.connections.size,
      id: encodePeerId(this.#seeder.swarm.keyPair.publicKey),
      shares: this.#seeder.status(),
      uploadedBytes: traffic.uploaded,
      downloadedBytes: this.#downloaded + traffic.downloaded,
      uploadRate: traffic.uploadRate,
      downloadRate: traffic.downloadRate,
      network: networkStatus(this.#seeder.swarm),
      ...(this.#registryUrl ? { registry: this.#registryUrl } : {})
    }
  }

  /** Stops serving, leaves the swarm and closes the store. */
  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.close(() => resolve()))
    await rm(this.socketPath, { force: true })
    await this.#registry?.close()
    await this.#seeder.close()
    await this.#seeder.swarm.destroy()
    await this.#store.close()
  }

  async #receive(params: { key: string; select?: string[]; findTimeout?: number; stallTimeout?: number }, emit: (e: ReceiveEvent) => void, signal: AbortSignal) {
    const onEvent = (e: ReceiveEvent) => {
      if (e.type === 'chunk') this.#downloaded += e.bytes
      emit(e)
    }
    const options: ReceiveOptions = { seeder: this.#seeder, onEvent, signal }
    if (params.select) options.select = params.select
    if (params.findTimeout) options.findTimeout = params.findTimeout
    if (params.stallTimeout) options.stallTimeout = params.stallTimeout
    this.#receiving++
    return receive(this.#store, params.key, options).finally(() => this.#receiving--)
  }

  async #startRegistry(config: RegistryConfig): Promise<void> {
    let credentials: Credentials | undefined
    if (config.credentialsFile) credentials = await Credentials.fromFile(config.credentialsFile)
    else if (config.credentials !== undefined) credentials = Credentials.parse(config.credentials, '--registry-auth')
    const remote = new SharePuller(this.#store, this.#seeder, config.findTimeout ? { findTimeout: config.findTimeout } : {})
    const server = new RegistryServer({ store: this.#store, remote, ...(credentials ? { credentials } : {}) })
    const addr = await server.listen(config.listen.host, config.listen.port).catch((err: unknown) => {
      throw wrap(err, `listening for the registry on ${config.listen.host}:${config.listen.port}`)
    })
    this.#registry = server
    this.#registryUrl = `http://${addr.host.includes(':') ? `[${addr.host}]` : addr.host}:${addr.port}`
    debug('registry endpoint at %s', this.#registryUrl)
  }

  /** Seeds every share this store created, and every share it received. */
  async #resume(): Promise<void> {
    for (const share of await listShares(this.#store)) {
      await this.#seeder.seed(this.#store.blobs.cores.get({ name: share.core }))
    }
    for (const key of await readSeedList(this.#store)) {
      await this.#seeder.seed(this.#store.blobs.cores.get({ key: decodeShareKey(key) }))
    }
  }

  #serve(sock: net.Socket): void {
    const send = (reply: Reply) => {
      if (!sock.destroyed) sock.write(`${JSON.stringify(reply)}\n`)
    }
    // a client that goes away (Ctrl-C) cancels what it asked for
    const cancel = new AbortController()
    sock.on('close', () => cancel.abort())
    sock.on('error', (err) => debug('control connection error: %s', err.message))
    sock.on(
      'data',
      lineReader(
        (value) => void this.#dispatch(value as Request, send, cancel.signal),
        (err) => {
          send({ id: 0, error: { code: ErrorCodes.BAD_REFERENCE, message: `bad control message: ${err.message}` } })
          sock.destroy()
        }
      )
    )
  }

  async #dispatch(req: Request, send: (reply: Reply) => void, signal: AbortSignal): Promise<void> {
    const handler = typeof req?.method === 'string' ? this.#handlers[req.method] : undefined
    if (!handler) {
      send({ id: req?.id ?? 0, error: { code: ErrorCodes.BAD_REFERENCE, message: `unknown daemon method ${String(req?.method)}` } })
      return
    }
    try {
      const result = await handler(req.params ?? {}, (event) => send({ id: req.id, event }), signal)
      send({ id: req.id, result: result ?? null })
    } catch (err) {
      const e = asHypershipError(err)
      send({ id: req.id, error: { code: e.code, message: e.message } })
    }
  }
}

/** Takes over the socket path, refusing when another daemon answers on it. */
async function claimSocket(path: string): Promise<void> {
  await makeSocketDir(path)
  await ownSocket(path)
  const alive = await new Promise<boolean>((resolve) => {
    const c = net.connect(path)
    c.once('connect', () => {
      c.destroy()
      resolve(true)
    })
    c.once('error', () => resolve(false))
  })
  if (alive) throw new HypershipError(ErrorCodes.STORE_BUSY, `a daemon is already running on ${path}`)
  await rm(path, { force: true })
}
