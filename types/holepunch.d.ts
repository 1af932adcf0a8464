// Hand-written declarations for the parts of the Holepunch stack hypership
// uses. The packages ship no types; keep these to what src/ calls.

declare module 'hypercore' {
  import type { EventEmitter } from 'node:events'
  import type { Readable } from 'node:stream'

  namespace Hypercore {
    interface Manifest {
      version: number
      signers: unknown[]
      quorum: number
      prologue: { hash: Buffer; length: number } | null
    }
    interface Download {
      done(): Promise<void>
      destroy(): void
    }
    interface Peer {
      remotePublicKey: Buffer
      /** The stream this peer replicates over (a swarm connection or a fast-path TCP stream). */
      stream: unknown
    }
  }

  class Hypercore extends EventEmitter {
    static key(manifest: Hypercore.Manifest): Buffer
    static discoveryKey(key: Buffer): Buffer
    /** Sets up the Protomux on a Noise stream (`stream.userData`) if it has none; returns the stream. */
    static createProtocolStream(stream: unknown): unknown
    readonly key: Buffer
    readonly discoveryKey: Buffer
    readonly length: number
    readonly contiguousLength: number
    readonly byteLength: number
    readonly writable: boolean
    readonly closed: boolean
    readonly peers: Hypercore.Peer[]
    readonly manifest: Hypercore.Manifest | null
    readonly core: { copyPrologue(state: unknown): Promise<void> }
    readonly state: unknown
    ready(): Promise<void>
    close(): Promise<void>
    append(blocks: Buffer | Buffer[]): Promise<{ length: number; byteLength: number }>
    get(index: number, opts?: { wait?: boolean; timeout?: number }): Promise<Buffer | null>
    has(start: number, end?: number): Promise<boolean>
    update(opts?: { wait?: boolean }): Promise<boolean>
    treeHash(length?: number): Promise<Buffer>
    download(range?: { start?: number; end?: number; linear?: boolean }): Hypercore.Download
    createReadStream(opts?: { start?: number; end?: number; wait?: boolean; timeout?: number }): Readable
    findingPeers(): () => void
    purge(): Promise<void>
    info(opts?: { storage?: boolean }): Promise<{ contiguousLength: number; length: number; byteLength: number }>
  }
  export = Hypercore
}

declare module 'corestore' {
  import type Hypercore from 'hypercore'
  import type { Duplex } from 'node:stream'

  namespace Corestore {
    /** A core as corestore holds it (not a session). */
    interface OpenCore {
      closing: unknown
      replicator: { detachFrom(muxer: unknown): void; attachTo(muxer: unknown): void }
    }
    interface GetOptions {
      name?: string
      key?: Buffer
      discoveryKey?: Buffer
      manifest?: Hypercore.Manifest
      createIfMissing?: boolean
      wait?: boolean
      timeout?: number
      valueEncoding?: string
      /** Blocks requested from each peer at once, [floor, ceiling]; applies when this call opens the core. */
      inflightRange?: [number, number]
    }
  }

  class Corestore {
    constructor(storage: string | object, opts?: Record<string, unknown>)
    ready(): Promise<void>
    close(): Promise<void>
    get(opts: Corestore.GetOptions): Hypercore
    replicate(stream: Duplex | boolean): Duplex
    /** Discovery keys of every core in storage. */
    list(namespace?: Buffer): AsyncIterable<Buffer>
    /**
     * The open cores by discovery key (hex). Internal in corestore 7, used
     * to attach a core to a connection again once access allows it.
     */
    readonly cores: { get(discoveryKeyHex: string): Corestore.OpenCore | undefined }
    namespace(name: string): Corestore
  }
  export = Corestore
}

declare module 'hyperswarm' {
  import type { EventEmitter } from 'node:events'
  import type { Duplex } from 'node:stream'

  namespace Hyperswarm {
    interface PeerInfo {
      publicKey: Buffer
      topics: Buffer[]
      client: boolean
    }
    interface Discovery {
      flushed(): Promise<void>
      destroy(): Promise<void>
    }
    interface Connection extends Duplex {
      remotePublicKey: Buffer
      readonly isInitiator: boolean
      rawStream?: { remoteHost?: string; remotePort?: number }
    }
    interface Options {
      bootstrap?: Array<string | { host: string; port: number }>
      keyPair?: { publicKey: Buffer; secretKey: Buffer }
      dht?: unknown
      firewall?: (remotePublicKey: Buffer) => boolean
      maxPeers?: number
      /** A relay's public key: used after hole punching failed, or when the NAT is random. */
      relayThrough?: Buffer
    }
  }

  class Hyperswarm extends EventEmitter {
    constructor(opts?: Hyperswarm.Options)
    readonly connections: Set<Hyperswarm.Connection>
    readonly keyPair: { publicKey: Buffer; secretKey: Buffer }
    readonly dht: { destroyed: boolean; addNode(node: { host: string; port: number }): void }
    join(topic: Buffer, opts?: { server?: boolean; client?: boolean }): Hyperswarm.Discovery
    leave(topic: Buffer): Promise<void>
    flush(): Promise<void>
    listen(): Promise<void>
    destroy(opts?: { force?: boolean }): Promise<void>
    on(event: 'connection', fn: (conn: Hyperswarm.Connection, info: Hyperswarm.PeerInfo) => void): this
    on(event: string, fn: (...args: any[]) => void): this
  }
  export = Hyperswarm
}

declare module 'hyperdht' {
  import type { EventEmitter } from 'node:events'

  class DHT extends EventEmitter {
    static bootstrapper(port: number, host: string, opts?: Record<string, unknown>): DHT
    constructor(opts?: Record<string, unknown>)
    ready(): Promise<void>
    fullyBootstrapped(): Promise<void>
    destroy(): Promise<void>
    address(): { host: string; port: number }
    addNode(node: { host: string; port: number }): void
    static readonly BOOTSTRAP: string[]
  }
  export = DHT
}

declare module 'hypercore-id-encoding' {
  export function encode(key: Buffer): string
  export function decode(id: string): Buffer
  export function normalize(id: string | Buffer): string
  export function isValid(id: string | Buffer): boolean
}

declare module 'hypercore-crypto' {
  export function randomBytes(n: number): Buffer
  export function discoveryKey(key: Buffer): Buffer
  /** An ed25519 key pair (sodium layout: 64-byte secret key). */
  export function keyPair(seed?: Buffer): { publicKey: Buffer; secretKey: Buffer }
  /** True when `publicKey` belongs to `secretKey`. */
  export function validateKeyPair(keyPair: { publicKey: Buffer; secretKey: Buffer }): boolean
  export function hash(data: Buffer | Buffer[]): Buffer
  /** A Merkle tree node as hypercore stores it. */
  interface TreeNode {
    index: number
    size: number
    hash: Buffer
  }
  /** Hash of a leaf (one block). */
  export function data(block: Buffer): Buffer
  /** Hash of the parent of two sibling nodes. */
  export function parent(a: TreeNode, b: TreeNode): Buffer
  /** Hash of a tree's roots: what a static core's prologue pins. */
  export function tree(roots: TreeNode[]): Buffer
}

declare module 'hypercore-storage' {
  class CoreStorage {
    constructor(dir: string, opts?: { writeBufferSize?: number; [key: string]: unknown })
    /** Compacts the whole database. */
    compact(): Promise<void>
  }
  export = CoreStorage
}

declare module '@hyperswarm/secret-stream' {
  import { Duplex } from 'node:stream'

  /** A Noise-encrypted duplex over any raw stream (hyperswarm's connections are these). */
  class NoiseSecretStream extends Duplex {
    constructor(isInitiator: boolean, rawStream: Duplex, opts?: { keyPair?: { publicKey: Buffer; secretKey: Buffer } })
    readonly isInitiator: boolean
    readonly remotePublicKey: Buffer | null
    /** Resolves true once the handshake completed, false if the stream closed first. */
    readonly opened: Promise<boolean>
    setKeepAlive(ms: number): void
  }
  export = NoiseSecretStream
}

declare module 'protomux' {
  import type { Duplex } from 'node:stream'

  namespace Protomux {
    interface Message<T> {
      send(value: T): boolean
    }
    interface Channel {
      open(handshake?: unknown): void
      close(): void
      addMessage<T>(opts: { encoding: unknown; onmessage?: (value: T) => void }): Message<T>
    }
  }

  class Protomux {
    static from(stream: Duplex): Protomux
    createChannel(opts: {
      protocol: string
      id?: Buffer | null
      onopen?: () => void
      onclose?: (isRemote: boolean) => void
    }): Protomux.Channel | null
  }
  export = Protomux
}

declare module 'blind-relay' {
  /** A blind relay: pairs two peers' UDX streams by a token and forwards their (encrypted) packets. */
  export class Server {
    constructor(opts: { createStream(opts: Record<string, unknown>): unknown })
    accept(stream: unknown, opts: { id: Buffer }): { on(event: string, fn: (...args: any[]) => void): unknown }
    close(): Promise<void>
  }
}
