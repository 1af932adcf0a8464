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

/** A swarm on the configured DHT. Caller must `await swarm.destroy()` so the process can exit. */
export function createSwarm(options: NetworkOptions): Hyperswarm {
  debug('creating swarm, bootstrap %s', options.bootstrap?.join(',') ?? '(public DHT)')
  return new Hyperswarm(options.bootstrap ? { bootstrap: options.bootstrap } : {})
}

/** A running DHT bootstrap node. */
export interface BootstrapNode {
  host: string
  port: number
  close(): Promise<void>
}

/**
 * Starts a DHT bootstrap node on `host:port` (port 0 picks a free one), for
 * LANs with no internet and for tests. It never contacts other nodes.
 */
export async function startBootstrap(host = '127.0.0.1', port = 0): Promise<BootstrapNode> {
  const node = DHT.bootstrapper(port, host)
  await node.ready()
  const addr = node.address()
  debug('bootstrap node on %s:%d', host, addr.port)
  return { host, port: addr.port, close: () => node.destroy() }
}
