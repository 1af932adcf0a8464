import { randomBytes } from 'node:crypto'
import { EventEmitter } from 'node:events'
import makeMdns from 'multicast-dns'
import { logger } from '../log.js'
import { type LanAddress, isIPv4, localFor } from './lan-address.js'

const debug = logger('p2p')

/** The DNS-SD service hypership daemons and commands advertise on a LAN. */
export const LAN_SERVICE = '_hypership._udp.local'

/** A DHT bootstrap node some other hypership on the LAN runs. */
export interface LanNode {
  /** The random instance id it advertised (no meaning beyond this run). */
  id: string
  host: string
  port: number
}

/** Where LanDiscovery advertises and what. */
export interface LanDiscoveryOptions {
  /** The address to advertise and to send multicast from. */
  local: LanAddress
  /** UDP port of the DHT bootstrap node on `local.address`. */
  port: number
  /** mDNS port (5353; tests may use another). */
  mdnsPort?: number
}

/** Seconds a record stays valid; peers re-query well within it. */
const TTL = 120
/** Most LAN nodes remembered; more are ignored (a hostile LAN could advertise thousands). */
const MAX_NODES = 64
/** Longest gap between our queries. */
const MAX_QUERY_GAP_MS = 60_000
const INSTANCE = /^([0-9a-f]{16})\._hypership\._udp\.local$/

/**
 * LAN discovery over multicast DNS (RFC 6762/6763). Each hypership on the
 * LAN advertises one `_hypership._udp.local` instance whose records carry
 * only a random instance id and the address of the DHT bootstrap node it
 * runs: no share key, no topic, nothing that names or fetches an image.
 * Listeners learn the addresses of each other's bootstrap nodes and feed
 * them to their DHT; finding a share still goes through the DHT topic.
 *
 * Emits `node` (LanNode) for every node first seen. Only addresses in our
 * own subnet are accepted, so nobody can steer us to a host off the LAN.
 */
export class LanDiscovery extends EventEmitter {
  readonly id = randomBytes(8).toString('hex')
  readonly #local: LanAddress
  readonly #port: number
  readonly #mdns: makeMdns.MulticastDNS
  readonly #nodes = new Map<string, LanNode & { expires: number }>()
  #timer: NodeJS.Timeout | undefined
  #gap = 1000
  #closed = false

  constructor(options: LanDiscoveryOptions) {
    super()
    this.#local = options.local
    this.#port = options.port
    this.#mdns = makeMdns({ interface: options.local.address, bind: '0.0.0.0', port: options.mdnsPort ?? 5353, reuseAddr: true })
    this.#mdns.on('warning', (err: Error) => debug('mdns warning: %s', err.message))
    this.#mdns.on('query', (q) => this.#onQuery(q))
    this.#mdns.on('response', (r) => this.#onResponse(r))
  }

  /** Binds the mDNS socket, announces this node and starts asking for others. */
  async start(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#mdns.once('ready', resolve)
      this.#mdns.once('error', reject)
    })
    this.#mdns.on('error', (err: Error) => debug('mdns error: %s', err.message))
    debug('lan: advertising %s on %s as %s (bootstrap %s:%d)', LAN_SERVICE, this.#local.iface, this.id, this.#local.address, this.#port)
    this.#announce(TTL)
    this.#query()
  }

  /** The LAN nodes currently known (not expired). */
  nodes(): LanNode[] {
    const now = Date.now()
    for (const [id, n] of this.#nodes) if (n.expires < now) this.#nodes.delete(id)
    return [...this.#nodes.values()].map(({ id, host, port }) => ({ id, host, port }))
  }

  /**
   * Waits for answers: returns once some node answered and a short grace
   * passed (others answer within milliseconds), or after `ms` with whatever
   * is known (possibly nothing: we are the first on the LAN).
   */
  async discover(ms: number, grace = 300): Promise<LanNode[]> {
    const deadline = Date.now() + ms
    while (this.nodes().length === 0 && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(t)
          this.off('node', done)
          resolve()
        }
        const t = setTimeout(done, Math.max(deadline - Date.now(), 0))
        this.on('node', done)
      })
    }
    if (this.nodes().length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, Math.min(grace, deadline - Date.now())))
    return this.nodes()
  }

  /** Says goodbye (TTL 0, so others forget us at once) and closes the socket. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    clearTimeout(this.#timer)
    await new Promise<void>((resolve) => this.#mdns.respond(this.#records(0), () => resolve()))
    await new Promise<void>((resolve) => this.#mdns.destroy(() => resolve()))
  }

  #records(ttl: number) {
    const instance = `${this.id}.${LAN_SERVICE}`
    const target = `hs-${this.id}.local`
    return {
      answers: [{ name: LAN_SERVICE, type: 'PTR' as const, ttl, data: instance }],
      additionals: [
        { name: instance, type: 'SRV' as const, ttl, data: { port: this.#port, target } },
        { name: instance, type: 'TXT' as const, ttl, data: ['v=1'] },
        { name: target, type: 'A' as const, ttl, data: this.#local.address }
      ]
    }
  }

  #announce(ttl: number): void {
    if (!this.#closed) this.#mdns.respond(this.#records(ttl))
  }

  #query(): void {
    if (this.#closed) return
    this.#mdns.query([{ name: LAN_SERVICE, type: 'PTR' }])
    this.#timer = setTimeout(() => this.#query(), this.#gap)
    this.#timer.unref()
    this.#gap = Math.min(this.#gap * 2, MAX_QUERY_GAP_MS)
  }

  #onQuery(q: makeMdns.QueryPacket): void {
    if (q.questions.some((x) => x.name.toLowerCase() === LAN_SERVICE && ['PTR', 'ANY'].includes(x.type as string))) this.#announce(TTL)
  }

  #onResponse(r: makeMdns.ResponsePacket): void {
    const records = [...(r.answers ?? []), ...(r.additionals ?? [])]
    if (records.length > 32) return
    for (const ptr of records) {
      if (ptr.type !== 'PTR' || ptr.name.toLowerCase() !== LAN_SERVICE || typeof ptr.data !== 'string') continue
      const id = INSTANCE.exec(ptr.data.toLowerCase())?.[1]
      if (!id || id === this.id) continue
      if (ptr.ttl === 0) {
        if (this.#nodes.delete(id)) debug('lan: %s said goodbye', id)
        continue
      }
      const srv = records.find((x) => x.type === 'SRV' && x.name.toLowerCase() === ptr.data)
      const port = srv?.type === 'SRV' ? srv.data.port : 0
      const target = srv?.type === 'SRV' ? srv.data.target.toLowerCase() : ''
      const a = records.find((x) => x.type === 'A' && x.name.toLowerCase() === target)
      const host = a?.type === 'A' ? a.data : ''
      if (!Number.isInteger(port) || port < 1 || port > 65535 || !isIPv4(host) || !localFor(host, [this.#local])) {
        debug('lan: ignoring %s at %s:%d (not a usable address on our subnet)', id, host, port)
        continue
      }
      const known = this.#nodes.get(id)
      if (!known && this.#nodes.size >= MAX_NODES) continue
      const expires = Date.now() + Math.min(ptr.ttl ?? TTL, TTL) * 1000
      this.#nodes.set(id, { id, host, port, expires })
      if (!known || known.host !== host || known.port !== port) {
        debug('lan: found %s at %s:%d', id, host, port)
        this.emit('node', { id, host, port } satisfies LanNode)
      }
    }
  }
}
