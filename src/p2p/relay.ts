import { Server as RelayServer } from 'blind-relay'
import DHT from 'hyperdht'
import { logger } from '../log.js'
import { type Identity, encodePeerId } from './identity.js'
import type { NetworkOptions } from './swarm.js'

const debug = logger('p2p')

/** A running blind relay. */
export interface RelayNode {
  /** What peers pass as `--relay`. */
  publicKey: Buffer
  close(): Promise<void>
}

interface RelayDht {
  createServer(onconnection: (socket: RelaySocket) => void): { listen(keyPair: Identity): Promise<void>; close(): Promise<void> }
  createRawStream(opts: Record<string, unknown>): unknown
  destroy(): Promise<void>
}

interface RelaySocket {
  remotePublicKey: Buffer
  on(event: 'error', fn: (err: Error) => void): void
}

/**
 * Runs a blind relay on the DHT: two peers that cannot hole-punch (both
 * behind NATs that change ports per destination) pair through it. It
 * forwards their UDX packets and sees only the Noise ciphertext between
 * them (docs/security.md). It must run where both can reach it (a public
 * address); peers use it with `--relay KEY`.
 */
export async function startRelay(options: NetworkOptions & { keyPair: Identity }): Promise<RelayNode> {
  const dht = new DHT({
    ...(options.bootstrap ? { bootstrap: options.bootstrap } : {}),
    // reachable by definition, unless told it sits behind NAT
    ...(options.bootstrap && !options.nat ? { firewalled: false } : {})
  }) as unknown as RelayDht
  const relay = new RelayServer({ createStream: (opts) => dht.createRawStream({ ...opts, framed: true }) })
  const server = dht.createServer((socket) => {
    socket.on('error', (err) => debug('relay connection error: %s', err.message))
    relay.accept(socket, { id: socket.remotePublicKey }).on('error', (err: Error) => debug('relay session error: %s', err.message))
  })
  try {
    await server.listen(options.keyPair)
  } catch (err) {
    await dht.destroy()
    throw err
  }
  debug('relay listening as %s', encodePeerId(options.keyPair.publicKey))
  return {
    publicKey: options.keyPair.publicKey,
    close: async () => {
      await relay.close()
      await server.close()
      await dht.destroy()
    }
  }
}
