import crypto from 'hypercore-crypto'
import { logger } from '../log.js'

const debug = logger('p2p')

/** Who may replicate a set of cores: anyone (`null`), or the listed peer identities (hex public keys). */
export type Audience = ReadonlySet<string> | null

interface Grant {
  discoveryKeys: Set<string>
  audience: Audience
}

interface Channel {
  protocol: string
  id: Buffer | null
  close(): void
}

interface Muxer extends Iterable<Channel> {
  createChannel(opts: { protocol: string; id?: Buffer | null }): Channel | null
}

/** A Noise stream whose channels the gate decides: a swarm connection or a fast-path TCP stream. */
interface Gated {
  remotePublicKey?: Buffer | null
  once?(event: 'close', fn: () => void): unknown
}

const HYPERCORE = new Set(['hypercore/alpha', 'hypercore'])

/**
 * Decides, per connection, which hypercores a peer may replicate with us.
 * Corestore would otherwise open a channel for any core the store holds
 * whose key the remote proves it knows. Every hypercore channel is created
 * through the connection's Protomux, so the gate wraps that one call: a
 * channel for a core no grant covers for this remote identity is never
 * created, and the remote gets nothing for it (not its length, not a block).
 *
 * Grants are named (a share key, a receive in progress); a core is served
 * when any grant naming it is public or lists the remote. A core no grant
 * names is served to nobody.
 */
export class AccessGate {
  readonly #grants = new Map<string, Grant>()
  /** Every gated stream still open (swarm connections and fast-path TCP streams), for #enforce. */
  readonly #gated = new Map<Gated, Muxer>()
  /** Discovery keys (hex) refused or closed on each gated stream, to offer again when a grant allows them. */
  readonly #refused = new Map<Gated, Set<string>>()
  readonly #reattach: ((muxer: unknown, discoveryKey: Buffer) => void) | undefined

  /**
   * `reattach(muxer, discoveryKey)` is called when a grant now allows a core
   * refused or closed on a stream before: it must have the core's replicator
   * try that stream again. A core is often opened before its grant exists (a
   * share's new catalog, a receive reading what it holds), a receive ends
   * and is retried, a peer is taken off a list and put back; without this, a
   * peer already connected would never get the core on that connection.
   */
  constructor(reattach?: (muxer: unknown, discoveryKey: Buffer) => void) {
    this.#reattach = reattach
  }

  /**
   * Gates the hypercore channels of a Noise stream's Protomux; call before
   * anything replicates on it. Any path that replicates the store (a swarm
   * connection, a direct TCP stream) must go through this. The remote key is
   * read when a channel is created (after the handshake); none, no channel.
   */
  install(conn: Gated, muxer: Muxer): void {
    this.#gated.set(conn, muxer)
    conn.once?.('close', () => {
      this.#gated.delete(conn)
      this.#refused.delete(conn)
    })
    const create = muxer.createChannel.bind(muxer)
    muxer.createChannel = (opts) => {
      const remote = conn.remotePublicKey?.toString('hex') ?? ''
      if (HYPERCORE.has(opts.protocol) && (!opts.id || !remote || !this.allows(remote, opts.id))) {
        debug('refusing core %s to peer %s', opts.id?.toString('hex').slice(0, 12), remote.slice(0, 12) || '(no key yet)')
        if (opts.id && remote && this.#gated.has(conn)) this.#remember(conn, opts.id)
        return null
      }
      // allowed now (the remote asked again, say): nothing left to offer later
      if (opts.id && HYPERCORE.has(opts.protocol)) this.#refused.get(conn)?.delete(opts.id.toString('hex'))
      return create(opts)
    }
  }

  /** Sets (or replaces) the grant `name`: these cores (by key), to this audience. Closes channels it no longer covers. */
  set(name: string, keys: Buffer[], audience: Audience): void {
    const prior = this.#grants.get(name)
    this.#grants.set(name, { discoveryKeys: new Set(keys.map((k) => crypto.discoveryKey(k).toString('hex'))), audience })
    if (prior) this.#enforce()
    this.#offerAgain()
  }

  /** Drops the grant `name` and closes the channels nothing else covers. */
  delete(name: string): void {
    if (this.#grants.delete(name)) this.#enforce()
  }

  /** True when the peer `remote` (hex public key) may replicate the core with discovery key `discoveryKey`. */
  allows(remote: string, discoveryKey: Buffer): boolean {
    const dk = discoveryKey.toString('hex')
    for (const g of this.#grants.values()) {
      if (g.discoveryKeys.has(dk) && (g.audience === null || g.audience.has(remote))) return true
    }
    return false
  }

  /** Notes a core refused or closed on `conn`, for #offerAgain. */
  #remember(conn: Gated, discoveryKey: Buffer): void {
    const refused = this.#refused.get(conn) ?? new Set()
    refused.add(discoveryKey.toString('hex'))
    this.#refused.set(conn, refused)
  }

  /** Has the cores refused before that the grants now allow tried again on their streams. */
  #offerAgain(): void {
    for (const [conn, refused] of this.#refused) {
      const muxer = this.#gated.get(conn)
      const remote = conn.remotePublicKey?.toString('hex') ?? ''
      if (!muxer || !remote) continue
      for (const dk of refused) {
        const discoveryKey = Buffer.from(dk, 'hex')
        if (!this.allows(remote, discoveryKey)) continue
        refused.delete(dk)
        debug('offering core %s to peer %s again (access granted)', dk.slice(0, 12), remote.slice(0, 12))
        this.#reattach?.(muxer, discoveryKey)
      }
    }
  }

  /** Closes every open hypercore channel the grants no longer allow. */
  #enforce(): void {
    for (const [conn, muxer] of this.#gated) {
      if (typeof muxer[Symbol.iterator] !== 'function') continue
      const remote = conn.remotePublicKey?.toString('hex') ?? ''
      for (const channel of [...muxer]) {
        if (HYPERCORE.has(channel.protocol) && channel.id && !this.allows(remote, channel.id)) {
          debug('closing core %s for peer %s (access withdrawn)', channel.id.toString('hex').slice(0, 12), remote.slice(0, 12))
          // offered again if a grant allows it later (a receive retried, a peer put back on the list)
          this.#remember(conn, channel.id)
          channel.close()
        }
      }
    }
  }
}
