import net from 'node:net'
import { ErrorCodes, type ErrorCode, HypershipError } from '../errors.js'
import { type Reply, lineReader } from '../daemon/protocol.js'
import { daemonSocketPath, ownSocket } from '../daemon/socket-path.js'

/**
 * The CLI's side of the control socket. `connect` finds out whether a
 * daemon owns the store; `call` runs one method, passing its events on.
 */
export class DaemonClient {
  readonly #sock: net.Socket
  #next = 1
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; onEvent?: (e: unknown) => void }>()

  private constructor(sock: net.Socket) {
    this.#sock = sock
    sock.on(
      'data',
      lineReader(
        (value) => this.#onReply(value as Reply),
        (err) => this.#failAll(err)
      )
    )
    sock.on('close', () => this.#failAll(new HypershipError(ErrorCodes.IO, 'the daemon closed the connection')))
    sock.on('error', () => {})
  }

  /** A client for the daemon of `storeDir`, or undefined when none runs. */
  static async connect(storeDir: string): Promise<DaemonClient | undefined> {
    const path = daemonSocketPath(storeDir)
    if (!(await ownSocket(path))) return undefined
    return new Promise((resolve) => {
      const sock = net.connect(path)
      sock.once('connect', () => resolve(new DaemonClient(sock)))
      sock.once('error', () => resolve(undefined))
    })
  }

  /** Calls a daemon method; `onEvent` hears its progress events. */
  call<T>(method: string, params: unknown, onEvent?: (event: unknown) => void): Promise<T> {
    const id = this.#next++
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject, ...(onEvent ? { onEvent } : {}) })
      this.#sock.write(`${JSON.stringify({ id, method, params })}\n`)
    })
  }

  close(): void {
    this.#sock.end()
  }

  #onReply(reply: Reply): void {
    const waiter = this.#pending.get(reply.id)
    if (!waiter) return
    if ('event' in reply) {
      waiter.onEvent?.(reply.event)
      return
    }
    this.#pending.delete(reply.id)
    if ('error' in reply) waiter.reject(new HypershipError(reply.error.code as ErrorCode, reply.error.message))
    else waiter.resolve(reply.result)
  }

  #failAll(err: Error): void {
    for (const w of this.#pending.values()) w.reject(err)
    this.#pending.clear()
  }
}
