import Hyperswarm from 'hyperswarm'
import DHT from 'hyperdht'
import { ErrorCodes, HypershipError } from '../errors.js'
import { logger } from '../log.js'
import { FastPath } from './fast-path.js'
import { hasDefaultRoute, lanAddresses } from './lan-address.js'
import { LanDiscovery, type LanNode } from './lan.js'

const debug = logger('p2p')

/** Network options every networked command takes. */
export interface NetworkOptions {
  /**
   * DHT bootstrap nodes as `host:port`. When given, the swarm talks to these
   * hosts only; when absent, the public HyperDHT bootstrap nodes are used.
   */
  bootstrap?: string[]
  /**
   * LAN discovery (docs/lan.md): find other hyperships on the LAN by mDNS
   * and run a DHT bootstrap node here for them. Default: on when no
   * bootstrap nodes are given, off when they are. Only `openSwarm` does it.
   */
  lan?: boolean
  /** Move bulk data to same-subnet peers over TCP (default on; docs/lan.md). */
  fastPath?: boolean
  /** How long `openSwarm` waits for mDNS answers before creating the DHT, ms (default 2000). */
  lanWaitMs?: number
  /**
   * With `bootstrap`: this peer may be behind NAT, so let the DHT detect its
   * reachability and hole-punch, instead of declaring itself reachable. Needs
   * a DHT of at least 4 nodes to sample the NAT (`hypership bootstrap --nodes`).
   */
  nat?: boolean
  /**
   * A blind relay's public key (`hypership relay`): connections that hole
   * punching cannot make (both NATs random) go through it, still end-to-end
   * encrypted.
   */
  relay?: Buffer
  /** The swarm's Noise key pair: this peer's identity (see identity.ts); a fresh one when absent. */
  keyPair?: { publicKey: Buffer; secretKey: Buffer }
}

/** Parses `host:port[,host:port…]` (from `--bootstrap` or HYPERSHIP_BOOTSTRAP). */
export function parseBootstrap(value: string | string[] | undefined): string[] | undefined {
  if (value === undefined) return undefined
  const items = (Array.isArray(value) ? value : [value]).flatMap((v) => v.split(',')).map((s) => s.trim()).filter(Boolean)
  if (items.length === 0) return undefined
  for (const item of items) {
    const m = /^(.+):(\d{1,5})$/.exec(item)
    if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) {
      throw new HypershipError(ErrorCodes.BAD_REFERENCE, `bad bootstrap node "${item}": expected HOST:PORT`)
    }
  }
  return items
}

/**
 * A swarm on the configured DHT. Caller must `await swarm.destroy()` so the
 * process can exit.
 *
 * On a private DHT (explicit bootstrap nodes: an offline LAN, loopback) the
 * node declares itself reachable (`firewalled: false`). Without that, two
 * peers that both believe they are firewalled end up with half-open
 * connections on a NAT-less network: the client sees a connection, the
 * server never does. On the public DHT the default NAT detection stays, and
 * `nat` asks for it on a private DHT too (peers behind NAT routers).
 */
export function createSwarm(options: NetworkOptions): Hyperswarm {
  debug('creating swarm, bootstrap %s', options.bootstrap?.join(',') ?? '(public DHT)')
  if (!options.bootstrap) return new NetSwarm({}, options)
  // a DHT on loopback only: bind there too, so nothing listens beyond it
  const loopback = options.bootstrap.every((b) => /^(127\.|localhost:|\[::1\]:)/.test(b))
  const dht = new DHT({ bootstrap: options.bootstrap, ...(options.nat ? {} : { firewalled: false }), ...(loopback ? { host: '127.0.0.1' } : {}) })
  return new NetSwarm({ dht }, options)
}

/** Whether the options ask for LAN discovery (default: only when no bootstrap nodes are given). */
export function lanEnabled(options: NetworkOptions): boolean {
  return options.lan ?? !options.bootstrap
}

/**
 * Like createSwarm, plus LAN discovery when `lanEnabled(options)`: starts a
 * DHT bootstrap node on this host's LAN address, advertises it by mDNS,
 * waits briefly for others' answers, and creates the swarm's DHT with all
 * of them as bootstrap nodes (nodes found later are added as they appear).
 * With no default route (an offline LAN), or with `lan: true`, the public
 * DHT is left out and the swarm declares itself reachable; otherwise the
 * public DHT is used as well. Caller must `await swarm.destroy()`.
 */
export async function openSwarm(options: NetworkOptions): Promise<Hyperswarm> {
  if (!lanEnabled(options)) return createSwarm(options)
  // not yet: a host on several LANs advertises (and binds) only its first
  // IPv4 address (docs/lan.md, Limits)
  const local = lanAddresses()[0]
  if (!local) {
    debug('lan: no LAN address; discovery off')
    return createSwarm(options)
  }
  const boot = await startBootstrap(local.address, 0)
  const discovery = new LanDiscovery({ local, port: boot.port })
  try {
    await discovery.start()
  } catch (err) {
    debug('lan: mDNS unavailable (%s); discovery off', (err as Error).message)
    await discovery.close().catch(() => {})
    await boot.close()
    return createSwarm(options)
  }
  const found = await discovery.discover(options.lanWaitMs ?? 2000)
  const withPublic = !options.bootstrap && options.lan === undefined && hasDefaultRoute()
  const bootstrap = [...(options.bootstrap ?? []), ...(withPublic ? DHT.BOOTSTRAP : []), `${boot.host}:${boot.port}`, ...found.map((n) => `${n.host}:${n.port}`)]
  debug('lan: %d node(s) answered; bootstrap %s', found.length, bootstrap.join(','))
  const dht = new DHT({ bootstrap, ...(withPublic ? {} : { firewalled: false, host: local.address }) })
  const swarm = new NetSwarm({ dht }, options, { discovery, boot, address: local.address })
  discovery.on('node', (n: LanNode) => {
    swarm.dht.addNode(n)
    boot.addNode(n)
  })
  return swarm
}

/** What a swarm knows of the LAN, for status. */
export interface NetworkStatus {
  /** LAN discovery: this host's bootstrap node and the LAN nodes known; null when off. */
  lan: { bootstrap: string; nodes: LanNode[] } | null
  /** Live replication streams by transport: `tcp` (the fast path) and `swarm`. */
  transports: { tcp: number; swarm: number }
  /** The fast path's TCP listeners (opened when a same-subnet peer connects). */
  fastPath: Array<{ host: string; port: number }>
}

/** The LAN side of a swarm from createSwarm/openSwarm. */
export function networkStatus(swarm: Hyperswarm): NetworkStatus {
  if (!(swarm instanceof NetSwarm)) return { lan: null, transports: { tcp: 0, swarm: swarm.connections.size }, fastPath: [] }
  const lan = swarm.lan ? { bootstrap: `${swarm.lan.boot.host}:${swarm.lan.boot.port}`, nodes: swarm.lan.discovery.nodes() } : null
  return { lan, transports: { ...swarm.fastPath.counts }, fastPath: swarm.fastPath.listening() }
}

/** The fast path of a swarm from createSwarm/openSwarm, unless turned off. */
export function fastPathOf(swarm: Hyperswarm): FastPath | undefined {
  return swarm instanceof NetSwarm && swarm.fastPathEnabled ? swarm.fastPath : undefined
}

/** A Hyperswarm that owns its fast path and LAN discovery and ends them on destroy. */
class NetSwarm extends Hyperswarm {
  readonly fastPath: FastPath
  readonly fastPathEnabled: boolean
  readonly lan: { discovery: LanDiscovery; boot: BootstrapNode; address: string } | undefined

  constructor(opts: Hyperswarm.Options, options: NetworkOptions, lan?: NetSwarm['lan']) {
    super({ ...opts, ...(options.keyPair ? { keyPair: options.keyPair } : {}), ...(options.relay ? { relayThrough: options.relay } : {}) })
    this.fastPath = new FastPath(this.keyPair)
    this.fastPathEnabled = options.fastPath !== false
    this.lan = lan
  }

  override async destroy(opts?: { force?: boolean }): Promise<void> {
    await this.lan?.discovery.close().catch((err: Error) => debug('lan: closing mDNS: %s', err.message))
    await super.destroy(opts)
    await this.fastPath.close()
    await this.lan?.boot.close()
  }
}

/** A running DHT bootstrap node. */
export interface BootstrapNode {
  host: string
  port: number
  /** Tells every node of it about another DHT node (one found on the LAN). */
  addNode(node: { host: string; port: number }): void
  close(): Promise<void>
}

/** DHT nodes a bootstrap process runs by default: one alone does not hold announcements reliably. */
const BOOTSTRAP_NODES = 3

/**
 * Starts a small DHT on `host:port` (port 0 picks a free one) for networks
 * with no internet and for tests: a persistent, non-firewalled first node
 * that others bootstrap from, plus more (`nodes` in all) so announcements
 * have a home. Peers behind NAT sample their mapping from at least three
 * DHT nodes besides the one they entered by before they hole-punch, so a
 * network with NATs needs `nodes` ≥ 4. It never contacts any other host.
 */
export async function startBootstrap(host = '127.0.0.1', port = 0, count = BOOTSTRAP_NODES): Promise<BootstrapNode> {
  const nodes: DHT[] = []
  const first = new DHT({ ephemeral: false, firewalled: false, bootstrap: [], port, host })
  nodes.push(first)
  try {
    await first.fullyBootstrapped()
    const bootstrap = [{ host, port: first.address().port }]
    while (nodes.length < count) {
      const node = new DHT({ ephemeral: false, firewalled: false, bootstrap, host })
      nodes.push(node)
      await node.fullyBootstrapped()
    }
  } catch (err) {
    await Promise.all(nodes.map((n) => n.destroy()))
    throw err
  }
  const bound = first.address().port
  debug('bootstrap DHT on %s:%d (%d nodes)', host, bound, nodes.length)
  return {
    host,
    port: bound,
    addNode: (node) => nodes.forEach((n) => n.addNode(node)),
    close: async () => void (await Promise.all(nodes.map((n) => n.destroy())))
  }
}
