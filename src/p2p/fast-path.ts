import net from 'node:net'
import type { Duplex } from 'node:stream'
import NoiseSecretStream from '@hyperswarm/secret-stream'
import c from 'compact-encoding'
import Protomux from 'protomux'
import type Hyperswarm from 'hyperswarm'
import { logger } from '../log.js'
import { directFor } from './lan-address.js'

const debug = logger('p2p')

const PROTOCOL = 'hypership/fast-path/v1'
/** How long both sides wait for the other to speak the protocol before replicating on the swarm connection. */
const NEGOTIATE_MS = 3000
/** How long a dial plus Noise handshake over TCP may take on a LAN. */
const DIAL_MS = 3000
/** Unauthenticated TCP sockets the listener holds at once. */
const MAX_PENDING = 32

/** Which connection carried a peer's replication. */
export type Transport = 'tcp' | 'swarm'

const fastStreams = new WeakSet<object>()

/** 'tcp' for a replication stream the fast path set up, else 'swarm'. */
export function transportOf(stream: unknown): Transport {
  return typeof stream === 'object' && stream !== null && fastStreams.has(stream) ? 'tcp' : 'swarm'
}

/**
 * The LAN fast path: when a swarm connection's remote address is in one of
 * our subnets (or on loopback: a peer on this host), bulk data moves over a
 * plain TCP connection between the two hosts instead of hyperswarm's UDX
 * stream (about twice the rate here).
 *
 * The two peers agree over a protomux channel on the swarm connection. The
 * responder listens on TCP on its LAN address and offers only the port; the
 * initiator dials that port on the address the swarm connection already
 * comes from (a peer cannot point us anywhere else), both run the same Noise
 * handshake with their swarm key pairs over the socket, and each checks the
 * other's key is the swarm peer's. Then the store replicates over that
 * stream: the same encryption, and hypercore verifies every chunk as it does
 * on the swarm. If anything fails (no listener, a firewall, a peer without
 * the protocol) replication runs on the swarm connection instead, as it
 * would without the fast path; the same happens if the TCP stream drops.
 */
export class FastPath {
  readonly #keyPair: Hyperswarm['keyPair']
  readonly #listeners = new Map<string, Promise<net.Server | undefined>>()
  /** Remote public key (hex) → who takes its TCP stream once authenticated. */
  readonly #expected = new Map<string, (stream: NoiseSecretStream) => void>()
  readonly #bound: Array<{ host: string; port: number }> = []
  #pending = 0
  #closed = false
  /** Live replication streams by transport, for status. */
  readonly counts = { tcp: 0, swarm: 0 }

  constructor(keyPair: Hyperswarm['keyPair']) {
    this.#keyPair = keyPair
  }

  /**
   * Starts replication for a new swarm connection: `replicate` is called once
   * with the stream to replicate on (a TCP one or `conn` itself), and again
   * with `conn` if a TCP stream drops while `conn` is still open.
   */
  attach(conn: Hyperswarm.Connection, replicate: (stream: Duplex) => void): void {
    const remoteHost = conn.rawStream?.remoteHost
    const local = this.#closed ? undefined : directFor(remoteHost)
    if (!local) {
      this.#use(conn, conn, replicate)
      return
    }
    const peer = conn.remotePublicKey.toString('hex')
    let decided = false
    let dialing = false
    const decide = (tcp: NoiseSecretStream | undefined, why: string) => {
      if (decided) return
      decided = true
      clearTimeout(timer)
      if (this.#expected.get(peer) === accept) this.#expected.delete(peer)
      if (conn.destroyed) {
        tcp?.destroy()
        return
      }
      if (!tcp) {
        debug('fast path to %s unused (%s); replicating on the swarm connection', peer.slice(0, 12), why)
        this.#use(conn, conn, replicate)
        return
      }
      debug('fast path to %s: replicating over TCP %s', peer.slice(0, 12), why)
      fastStreams.add(tcp)
      conn.once('close', () => tcp.destroy())
      tcp.once('close', () => {
        if (conn.destroyed) return
        debug('fast path to %s closed; replicating on the swarm connection', peer.slice(0, 12))
        this.#use(conn, conn, replicate)
      })
      this.#use(conn, tcp, replicate)
    }
    const accept = (tcp: NoiseSecretStream) => decide(tcp, `from ${remoteHost}`)
    const timer = setTimeout(() => decide(undefined, 'peer did not answer'), NEGOTIATE_MS)
    conn.once('close', () => decide(undefined, 'connection closed'))

    const mux = Protomux.from(conn)
    const channel = mux.createChannel({
      protocol: PROTOCOL,
      onopen: () => {
        if (conn.isInitiator) return
        this.#listen(local.address).then((server) => {
          const port = server ? (server.address() as net.AddressInfo).port : 0
          if (!server || decided) {
            offer.send(0)
            decide(undefined, 'no TCP listener')
            return
          }
          this.#expected.set(peer, accept)
          offer.send(port)
        }, () => decide(undefined, 'no TCP listener'))
      },
      onclose: () => decide(undefined, 'channel closed')
    })
    if (!channel) {
      decide(undefined, 'channel already open')
      return
    }
    const offer = channel.addMessage({
      encoding: c.uint,
      onmessage: (port: number) => {
        // one dial per connection, however many offers a peer sends
        if (!conn.isInitiator || decided || dialing) return
        dialing = true
        if (port < 1 || port > 65535 || !remoteHost) {
          decide(undefined, 'peer offered no port')
          return
        }
        this.#dial(remoteHost, port, conn.remotePublicKey).then(
          (tcp) => decide(tcp, `to ${remoteHost}:${port}`),
          (err: Error) => {
            fallback.send(0)
            decide(undefined, `dial ${remoteHost}:${port} failed: ${err.message}`)
          }
        )
      }
    })
    const fallback = channel.addMessage({ encoding: c.uint, onmessage: () => decide(undefined, 'peer could not dial') })
    channel.open()
  }

  /** The TCP listeners open now (one per LAN address a peer came from). */
  listening(): Array<{ host: string; port: number }> {
    return [...this.#bound]
  }

  /** Closes the TCP listeners; streams already set up end with their swarm connections. */
  async close(): Promise<void> {
    this.#closed = true
    const servers = await Promise.all(this.#listeners.values())
    this.#listeners.clear()
    this.#bound.length = 0
    await Promise.all(servers.map((s) => (s ? new Promise<void>((resolve) => s.close(() => resolve())) : undefined)))
  }

  #use(conn: Hyperswarm.Connection, stream: Duplex, replicate: (stream: Duplex) => void): void {
    const kind = stream === conn ? 'swarm' : 'tcp'
    this.counts[kind]++
    stream.once('close', () => this.counts[kind]--)
    replicate(stream)
  }

  /** A TCP listener on `address` (one per local address, opened on first use). */
  #listen(address: string): Promise<net.Server | undefined> {
    let server = this.#listeners.get(address)
    if (!server) {
      server = new Promise((resolve) => {
        const s = net.createServer((socket) => this.#incoming(socket))
        s.maxConnections = MAX_PENDING * 4
        s.once('error', (err) => {
          debug('fast path: cannot listen on %s: %s', address, err.message)
          resolve(undefined)
        })
        s.listen(0, address, () => {
          const port = (s.address() as net.AddressInfo).port
          debug('fast path: listening on %s:%d', address, port)
          this.#bound.push({ host: address, port })
          resolve(s)
        })
      })
      this.#listeners.set(address, server)
    }
    return server
  }

  #incoming(socket: net.Socket): void {
    if (this.#closed || this.#pending >= MAX_PENDING) {
      socket.destroy()
      return
    }
    this.#pending++
    socket.setNoDelay(true)
    const stream = new NoiseSecretStream(false, socket, { keyPair: this.#keyPair })
    stream.on('error', (err: Error) => debug('fast path stream error: %s', err.message))
    const timer = setTimeout(() => stream.destroy(), DIAL_MS)
    stream.opened.then((ok) => {
      clearTimeout(timer)
      this.#pending--
      const accept = ok && stream.remotePublicKey ? this.#expected.get(stream.remotePublicKey.toString('hex')) : undefined
      if (!accept) {
        debug('fast path: refusing a TCP stream from a key we offered nothing to')
        stream.destroy()
        return
      }
      accept(stream)
    })
  }

  #dial(host: string, port: number, remotePublicKey: Buffer): Promise<NoiseSecretStream> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port })
      socket.setNoDelay(true)
      const stream = new NoiseSecretStream(true, socket, { keyPair: this.#keyPair })
      let settled = false
      const fail = (err: Error) => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        stream.destroy()
        reject(err)
      }
      const timer = setTimeout(() => fail(new Error('timed out')), DIAL_MS)
      stream.on('error', (err: Error) => (settled ? debug('fast path stream error: %s', err.message) : fail(err)))
      stream.once('close', () => fail(new Error('closed during the handshake')))
      stream.opened.then((ok) => {
        if (!ok) return fail(new Error('handshake failed'))
        if (!stream.remotePublicKey?.equals(remotePublicKey)) return fail(new Error('the TCP peer is not the swarm peer'))
        settled = true
        clearTimeout(timer)
        resolve(stream)
      })
    })
  }
}
