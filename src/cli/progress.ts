import cliProgress from 'cli-progress'
import type { ReceiveEvent } from '../p2p/receive.js'
import { out } from './output.js'

const JSON_EVERY_MS = 250

/**
 * Renders receive progress: a bar with bytes, rate and ETA on a terminal,
 * JSON lines with `--json`, nothing otherwise.
 */
export class Progress {
  readonly #json: boolean
  #bar: cliProgress.SingleBar | undefined
  #total = 0
  #have = 0
  #peers = new Set<string>()
  #lastJson = 0

  constructor(json: boolean) {
    this.#json = json
  }

  event(e: ReceiveEvent): void {
    if (e.type === 'catalog') this.#total = e.images.reduce((n, i) => n + i.size, 0)
    if (e.type === 'blob') this.#have += e.have
    if (e.type === 'chunk') {
      this.#have += e.bytes
      this.#peers.add(e.peer)
    }
    if (this.#json) return this.#emitJson(e)
    if (!out.interactive) return
    if (e.type === 'searching') out.info(`Looking for peers sharing ${e.key.slice(0, 12)}…`)
    if (e.type === 'catalog') {
      out.info(`Found ${e.images.length} image(s): ${e.images.flatMap((i) => i.names).join(', ') || '(untagged)'}`)
      this.#bar = new cliProgress.SingleBar(
        { format: ' {bar} {percentage}% | {value}/{total} MiB | {speed} MiB/s | ETA {eta}s | peers {peers}', hideCursor: true, stream: process.stderr },
        cliProgress.Presets.shades_classic
      )
      this.#bar.start(mib(this.#total), 0, { speed: '0.0', peers: 0 })
    }
    this.#bar?.update(mib(this.#have), { speed: this.#speed(), peers: this.#peers.size })
  }

  /** Stops the bar; safe to call twice. */
  done(): void {
    this.#bar?.update(mib(this.#have))
    this.#bar?.stop()
    this.#bar = undefined
  }

  readonly #start = Date.now()
  #speed(): string {
    const s = (Date.now() - this.#start) / 1000
    return s > 0 ? (this.#have / 1048576 / s).toFixed(1) : '0.0'
  }

  #emitJson(e: ReceiveEvent): void {
    if (e.type !== 'chunk') {
      out.json(e)
      return
    }
    const now = Date.now()
    if (now - this.#lastJson < JSON_EVERY_MS) return
    this.#lastJson = now
    out.json({ type: 'progress', bytes: this.#have, total: this.#total, peers: this.#peers.size })
  }
}

function mib(bytes: number): number {
  return Math.round((bytes / 1048576) * 10) / 10
}
