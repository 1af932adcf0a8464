import cliProgress from 'cli-progress'
import { familiarName, parseReference } from '../image/reference.js'
import type { ReceiveEvent } from '../p2p/receive.js'
import { out } from './output.js'

const JSON_EVERY_MS = 250
const FORMAT = ' {name} {bar} {percentage}% | {done}/{size} MiB | {speed} MiB/s | ETA {etaText} | peers {peers}'

interface ImageBar {
  bar: cliProgress.SingleBar
  blobs: Set<string>
  size: number
}

/**
 * Renders receive progress in the spirit of `docker pull`: on a terminal a
 * bar per image and one for the whole transfer, with bytes, rate, ETA and
 * peer count; JSON lines with `--json`; nothing otherwise.
 */
export class Progress {
  readonly #json: boolean
  readonly #start = Date.now()
  #multi: cliProgress.MultiBar | undefined
  #images: ImageBar[] = []
  #total: cliProgress.SingleBar | undefined
  #totalSize = 0
  /** Bytes held per blob so far. */
  readonly #have = new Map<string, number>()
  readonly #peers = new Set<string>()
  #lastJson = 0

  constructor(json: boolean) {
    this.#json = json
  }

  event(e: ReceiveEvent): void {
    if (e.type === 'blob') this.#have.set(e.digest, e.have)
    if (e.type === 'chunk') {
      this.#have.set(e.digest, (this.#have.get(e.digest) ?? 0) + e.bytes)
      this.#peers.add(e.peer)
    }
    if (e.type === 'catalog') this.#totalSize = e.total
    if (this.#json) return this.#emitJson(e)
    if (!out.interactive) return
    if (e.type === 'searching') out.info(`Looking for peers sharing ${e.key.slice(0, 12)}…`)
    if (e.type === 'catalog') this.#startBars(e)
    this.#render()
  }

  /** Stops the bars; safe to call twice. */
  done(): void {
    this.#render()
    this.#multi?.stop()
    this.#multi = undefined
  }

  #startBars(e: Extract<ReceiveEvent, { type: 'catalog' }>): void {
    out.info(`Found ${e.images.length} image(s) from ${e.peers} peer(s)`)
    this.#multi = new cliProgress.MultiBar({ format: FORMAT, hideCursor: true, stream: process.stderr, clearOnComplete: false }, cliProgress.Presets.shades_classic)
    for (const img of e.images) {
      const name = img.names[0] ? familiarName(parseReference(img.names[0])) : img.manifest.slice(0, 19)
      const bar = this.#multi.create(img.size, 0, { name: name.padEnd(24).slice(0, 24), ...this.#payload(0, img.size) })
      this.#images.push({ bar, blobs: new Set(img.blobs), size: img.size })
    }
    this.#total = this.#multi.create(this.#totalSize, 0, { name: 'total'.padEnd(24), ...this.#payload(0, this.#totalSize) })
  }

  #render(): void {
    if (!this.#multi) return
    let all = 0
    for (const v of this.#have.values()) all += v
    for (const img of this.#images) {
      let n = 0
      for (const b of img.blobs) n += this.#have.get(b) ?? 0
      img.bar.update(n, this.#payload(n, img.size))
    }
    this.#total?.update(all, this.#payload(all, this.#totalSize))
  }

  #payload(done: number, size: number) {
    const seconds = (Date.now() - this.#start) / 1000
    const rate = seconds > 0 ? this.#sum() / seconds : 0
    const etaText = done >= size ? '0s' : rate > 0 ? `${Math.ceil((size - done) / rate)}s` : '-'
    return { done: mib(done), size: mib(size), speed: mib(rate), etaText, peers: this.#peers.size }
  }

  #sum(): number {
    let n = 0
    for (const v of this.#have.values()) n += v
    return n
  }

  #emitJson(e: ReceiveEvent): void {
    if (e.type !== 'chunk') {
      out.json(e)
      return
    }
    const now = Date.now()
    if (now - this.#lastJson < JSON_EVERY_MS) return
    this.#lastJson = now
    out.json({ type: 'progress', bytes: this.#sum(), total: this.#totalSize, peers: this.#peers.size })
  }
}

function mib(bytes: number): number {
  return Math.round((bytes / 1048576) * 10) / 10
}
