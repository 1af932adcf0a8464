import Hyperswarm from 'hyperswarm'
import DHT from 'hyperdht'
import { ErrorCodes, HypershipError } from '../errors.js'
import { logger } from '../log.js'

const debug = logger('p2p')

/** Network options every networked command takes. */
export interface NetworkOptions {
  /**
   * DHT bootstrap nodes as `host:port`. When given, the swarm talks to these
   * hosts only; when absent, the public HyperDHT bootstrap nodes are used.
   */
  bootstrap?: string[]
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
  const keyPair = { ...(options.keyPair ? { keyPair: options.keyPair } : {}), ...(options.relay ? { relayThrough: options.relay } : {}) }
  if (!options.bootstrap) return new Hyperswarm(keyPair)
  // a DHT on loopback only: bind there too, so nothing listens beyond it
  const loopback = options.bootstrap.every((b) => /^(127\.|localhost:|\[::1\]:)/.test(b))
  return new Hyperswarm({ ...keyPair, dht: new DHT({ bootstrap: options.bootstrap, ...(options.nat ? {} : { firewalled: false }), ...(loopback ? { host: '127.0.0.1' } : {}) }) })
}

/** A running DHT bootstrap node. */
export interface BootstrapNode {
  host: string
  port: number
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
  return { host, port: bound, close: async () => void (await Promise.all(nodes.map((n) => n.destroy()))) }
}
