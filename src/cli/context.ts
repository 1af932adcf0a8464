import { fstatSync, realpathSync, statSync } from 'node:fs'
import { resolve } from 'node:path'
import type { Argv } from 'yargs'
import { DaemonClient } from '../client/client.js'
import { ErrorCodes, HypershipError } from '../errors.js'
import { hasPrefix, parseLocation } from '../transports/location.js'
import { decodePeerId } from '../p2p/identity.js'
import { type NetworkOptions, parseBootstrap } from '../p2p/swarm.js'
import { dockerHost, parseDockerHost } from '../transports/docker-daemon/engine.js'
import { defaultStoreDir } from '../store/paths.js'
import { type OpenOptions, Store } from '../store/store.js'

/** Flags every command takes. */
export interface GlobalArgs {
  store?: string
  verbose?: boolean
  json?: boolean
}

/** Flags every networked command takes. */
export interface NetworkArgs {
  bootstrap?: string
  lan?: boolean
  fastPath?: boolean
  nat?: boolean
  relay?: string
}

/** The store directory the flags point at. */
export function storeDir(args: GlobalArgs): string {
  return args.store ?? defaultStoreDir()
}

/** Opens the store the flags point at; caller must close it. */
export function openStore(args: GlobalArgs, options?: OpenOptions): Promise<Store> {
  return Store.open(storeDir(args), options)
}

/**
 * Runs `work` against the store: through the store's daemon when one is
 * running (it owns the store), else in this process.
 */
export async function withStore<T>(
  args: GlobalArgs,
  work: { daemon: (client: DaemonClient) => Promise<T>; local: (store: Store) => Promise<T> },
  options?: OpenOptions
): Promise<T> {
  const client = await DaemonClient.connect(storeDir(args))
  if (client) {
    try {
      return await work.daemon(client)
    } finally {
      client.close()
    }
  }
  const store = await openStore(args, options)
  try {
    return await work.local(store)
  } finally {
    await store.close()
  }
}

/**
 * A SOURCE or destination with its paths made absolute, so a daemon with
 * another working directory reads the same files. Store names pass as is.
 */
export async function absoluteLocation(input: string): Promise<string> {
  const loc = await parseLocation(input).catch(() => undefined)
  if (!loc || loc.kind === 'store' || loc.kind === 'docker-daemon') return input
  const suffix = loc.kind === 'docker-archive' ? (loc.name ? `:${loc.name}` : '') : loc.ref ? `:${loc.ref}` : ''
  return `${loc.kind}:${resolve(loc.path)}${suffix}`
}

/** Flags of commands that may talk to the Docker Engine. */
export interface EngineArgs {
  dockerHost?: string
}

/** Adds `--docker-host` (default from DOCKER_HOST). */
export function withEngine<T>(y: Argv<T>): Argv<T & EngineArgs> {
  return y.option('docker-host', {
    type: 'string',
    describe: 'the Docker Engine (or podman service) for docker-daemon: and --load: unix:///PATH or tcp://HOST:PORT (env DOCKER_HOST)',
    defaultDescription: '$DOCKER_HOST or unix:///var/run/docker.sock'
  }) as Argv<T & EngineArgs>
}

/**
 * The Docker host the flags and environment name, resolved here so a daemon
 * uses the CLI's, not its own; checked unless `check` is false (when the
 * engine may not be needed at all).
 */
export function dockerHostOf(args: EngineArgs, check = true): string {
  const host = dockerHost(args.dockerHost)
  if (check) parseDockerHost(host) // a malformed host fails here, before any work
  return host
}

/** Adds `--bootstrap` (default from HYPERSHIP_BOOTSTRAP). */
export function withNetwork<T>(y: Argv<T>): Argv<T & NetworkArgs> {
  return y.option('bootstrap', {
    type: 'string',
    describe: 'DHT bootstrap nodes HOST:PORT[,…]; only these are contacted (env HYPERSHIP_BOOTSTRAP)',
    default: process.env.HYPERSHIP_BOOTSTRAP || undefined,
    defaultDescription: '$HYPERSHIP_BOOTSTRAP or the public DHT'
  })
    .option('lan', {
      type: 'boolean',
      describe: 'find peers on the LAN by mDNS and run a DHT node for them (--no-lan: never)',
      defaultDescription: 'on unless --bootstrap is given'
    })
    .option('fast-path', {
      type: 'boolean',
      default: true,
      describe: 'send bulk data to peers on the same subnet over TCP (--no-fast-path: only the swarm connection)'
    })
    .option('nat', {
      type: 'boolean',
      describe: 'with --bootstrap: this peer may be behind NAT, detect it and hole-punch (env HYPERSHIP_NAT=1)',
      default: process.env.HYPERSHIP_NAT === '1' || undefined
    })
    .option('relay', {
      type: 'string',
      describe: 'a blind relay (`hypership relay` prints its key) for peers hole punching cannot reach (env HYPERSHIP_RELAY)',
      default: process.env.HYPERSHIP_RELAY || undefined
    }) as unknown as Argv<T & NetworkArgs>
}

/** The network options from the flags, checked. */
export function networkOf(args: NetworkArgs): NetworkOptions {
  const bootstrap = parseBootstrap(args.bootstrap)
  return {
    ...(bootstrap ? { bootstrap } : {}),
    ...(args.lan !== undefined ? { lan: args.lan } : {}),
    fastPath: args.fastPath !== false,
    ...(args.nat ? { nat: true } : {}),
    ...(args.relay ? { relay: decodePeerId(args.relay) } : {})
  }
}

/** The bootstrap list from the flags, checked. */
export function bootstrapOf(args: NetworkArgs): string[] | undefined {
  return parseBootstrap(args.bootstrap)
}

/**
 * Resolves on the first SIGINT or SIGTERM, so the caller can shut down
 * cleanly. Later SIGTERMs are ignored while it does; a second SIGINT (an
 * impatient Ctrl-C) exits at once.
 */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let seen = false
    const on = (sig: NodeJS.Signals) => {
      if (!seen) {
        seen = true
        resolve(sig)
      } else if (sig === 'SIGINT') {
        process.exit(130)
      }
    }
    process.on('SIGINT', on)
    process.on('SIGTERM', on)
  })
}

/** Like absoluteLocation, for a destination that may not exist yet. */
export async function absoluteDestination(output: string): Promise<string> {
  if (output === '-') {
    // refused until the daemon protocol can stream an archive back to the
    // client: a daemon's standard output is not the user's
    throw new HypershipError(ErrorCodes.BAD_REFERENCE, 'writing to standard output is not supported; give a file, e.g. -o app.tar')
  }
  if (hasPrefix(output)) return absoluteLocation(output)
  return resolve(output) + (output.endsWith('/') ? '/' : '')
}

/**
 * A yargs `coerce` for a number flag: refuses what is not a number in
 * [min, max] (or not whole, with `whole`) as a usage error.
 */
export function numberIn(flag: string, min: number, max: number, whole = false): (value: unknown) => number {
  return (value) => {
    const n = typeof value === 'number' ? value : Number(value)
    if (!Number.isFinite(n) || n < min || n > max || (whole && !Number.isInteger(n))) {
      throw new HypershipError(ErrorCodes.BAD_REFERENCE, `${flag} must be ${whole ? 'a whole number' : 'a number'} from ${min} to ${max}${Number.isNaN(n) ? '' : `, not ${String(value)}`}`)
    }
    return n
  }
}

/** Paths that mean something different in each process: its own descriptors. */
const PROCESS_RELATIVE = /^\/(dev\/(stdin|stdout|stderr|fd\/)|proc\/(self|thread-self|\d+)\/)/

/** True when `path` is this process's standard output (the same file, pipe or terminal as fd 1). */
export function isOwnStdout(path: string): boolean {
  try {
    const a = statSync(path)
    const b = fstatSync(1)
    return a.dev === b.dev && a.ino === b.ino
  } catch {
    return false
  }
}

/**
 * A path as the daemon must see it. The daemon is another process: a path
 * like /dev/stdout or /proc/self/fd/1 would name its own descriptors (its
 * log, say), not this command's. Such a path that leads to a regular file
 * is handed over as that file; anything else (a pipe, a terminal) is
 * refused, since the daemon cannot reach it.
 */
export function pathForDaemon(location: string, what: string): string {
  const path = location.replace(/^(docker-archive|oci-archive|oci):/, '')
  if (!PROCESS_RELATIVE.test(path)) return location
  let real: string | undefined
  try {
    // a pipe or socket resolves to a name like /proc/PID/fd/pipe:[N]
    real = realpathSync(path)
    if (PROCESS_RELATIVE.test(real) || !statSync(real).isFile()) real = undefined
  } catch {
    real = undefined
  }
  if (real) return location.slice(0, location.length - path.length) + real
  throw new HypershipError(
    ErrorCodes.BAD_REFERENCE,
    `${what} ${path} is this command's own descriptor, which the running daemon cannot reach; give a file, or stop the daemon (hypership daemon stop)`
  )
}
