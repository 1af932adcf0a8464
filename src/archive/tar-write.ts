import { createWriteStream } from 'node:fs'
import { once } from 'node:events'
import { Readable, type Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import tar, { type Pack } from 'tar-stream'

const EPOCH = new Date(0)

/**
 * Writes a deterministic tar file: every entry has mtime 0, uid/gid 0,
 * empty owner names, mode 0644 (0755 for directories). Bodies are streamed.
 */
export class TarWriter {
  readonly #pack: Pack = tar.pack()
  readonly #done: Promise<void>
  /** Bodies being streamed in, destroyed by abort() so no writer waits on them forever. */
  readonly #bodies = new Set<Readable>()

  /** Starts writing the archive to the file `target`, or into a stream (ended with the archive). */
  constructor(target: string | Writable) {
    this.#done = pipeline(Readable.from(this.#pack, { objectMode: false }), typeof target === 'string' ? createWriteStream(target) : target)
    // Surfaced by finish(); this keeps an early failure from going unhandled.
    this.#done.catch(() => undefined)
  }

  /**
   * Once the output failed (a reader that went away: EPIPE), tar-stream
   * refuses further entries with an error of its own; the output's error is
   * the one that says what happened, so an entry's failure is reported as
   * that when there is one.
   */
  async #explained(entry: Promise<void>): Promise<void> {
    try {
      await entry
    } catch (err) {
      const output = await Promise.race([this.#done.then(() => undefined, (e: unknown) => e), new Promise((resolve) => setTimeout(resolve, 100))])
      throw output ?? err
    }
  }

  #header(name: string, type: 'file' | 'directory', size: number) {
    return { name, type, size, mode: type === 'file' ? 0o644 : 0o755, mtime: EPOCH, uid: 0, gid: 0, uname: '', gname: '' }
  }

  /** Adds a directory entry (`name` ends without a slash). */
  directory(name: string): Promise<void> {
    return this.#explained(
      new Promise((resolve, reject) => {
        this.#pack.entry(this.#header(`${name}/`, 'directory', 0), (err) => (err ? reject(err) : resolve()))
      })
    )
  }

  /** Adds a small file from memory. */
  bytes(name: string, body: Buffer): Promise<void> {
    return this.#explained(
      new Promise((resolve, reject) => {
        this.#pack.entry(this.#header(name, 'file', body.length), body, (err) => (err ? reject(err) : resolve()))
      })
    )
  }

  /** Streams a file of exactly `size` bytes into the archive. */
  async stream(name: string, size: number, body: Readable): Promise<void> {
    let fail: (err: Error) => void = () => undefined
    const written = new Promise<void>((resolve, reject) => {
      fail = reject
      const sink = this.#pack.entry(this.#header(name, 'file', size), (err) => (err ? reject(err) : resolve()))
      // its failures reach us through the callback or the catch below; unheard, they would crash the process
      sink.on('error', () => undefined)
      void (async () => {
        try {
          for await (const chunk of body) {
            if (!sink.write(chunk as Buffer)) await once(sink as unknown as NodeJS.EventEmitter, 'drain')
          }
          sink.end(undefined)
        } catch (err) {
          sink.destroy(err as Error)
          reject(err)
        }
      })()
    })
    body.once('error', (err) => fail(err))
    this.#bodies.add(body)
    try {
      await this.#explained(written)
    } finally {
      this.#bodies.delete(body)
    }
  }

  /** Ends the archive and waits until it is on disk (or all in the stream). */
  async finish(): Promise<void> {
    this.#pack.finalize()
    await this.#done
  }

  /** Abandons the archive after an error. */
  async abort(err: Error): Promise<void> {
    for (const body of this.#bodies) body.destroy(err)
    this.#pack.destroy(err)
    await this.#done.catch(() => undefined)
  }
}
