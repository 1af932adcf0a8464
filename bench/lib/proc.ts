import { type ChildProcess, spawn } from 'node:child_process'
import { readFile, readdir } from 'node:fs/promises'
import { performance } from 'node:perf_hooks'

/** Milliseconds on a monotonic clock. */
export const now = (): number => performance.now()

/** What a finished command printed and how long it took. */
export interface Finished {
  code: number | null
  stdout: string
  stderr: string
  ms: number
}

/**
 * Runs a command to completion. Throws when it exits non-zero, unless
 * `allowFail`; the error carries the tail of stderr.
 */
export async function run(
  file: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; allowFail?: boolean; cwd?: string } = {}
): Promise<Finished> {
  const t0 = now()
  const child = spawn(file, args, { env: { ...process.env, ...opts.env }, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject)
    child.once('close', (c) => resolve(c))
  })
  const result = { code, stdout, stderr, ms: now() - t0 }
  if (code !== 0 && !opts.allowFail) {
    throw new Error(`${file} ${args.join(' ')} exited ${code}: ${stderr.trim().split('\n').slice(-5).join(' | ')}`)
  }
  return result
}

/** Peak RSS and CPU time of a process, read from /proc while it runs. */
export interface Usage {
  /** Kernel high-water mark of resident memory (VmHWM), MiB. */
  peakRssMiB: number
  /** User + system CPU seconds at the last sample before exit. */
  cpuSeconds: number
  /** CPU seconds by thread name (main thread is `node`), at the last sample. */
  threads: Record<string, number>
  /** Bytes the process caused to be written to / read from storage (/proc/PID/io). */
  writeBytes: number
  readBytes: number
}

const CLOCK_TICKS = 100
const SAMPLE_MS = 100

/**
 * A child process with line-wise stdout, a /proc sampler and an exit
 * promise. The caller must `stop()` or await `exited`.
 */
export class Proc {
  readonly child: ChildProcess
  readonly started = now()
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>
  readonly usage: Usage = { peakRssMiB: 0, cpuSeconds: 0, threads: {}, writeBytes: 0, readBytes: 0 }
  stderr = ''
  #lineListeners = new Set<(line: string, at: number) => void>()
  #timer: NodeJS.Timeout

  constructor(file: string, args: string[], env: NodeJS.ProcessEnv = {}) {
    this.child = spawn(file, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let buf = ''
    this.child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      const at = now()
      buf += d
      for (let nl = buf.indexOf('\n'); nl !== -1; nl = buf.indexOf('\n')) {
        const line = buf.slice(0, nl)
        buf = buf.slice(nl + 1)
        for (const fn of this.#lineListeners) fn(line, at)
      }
    })
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      this.stderr = (this.stderr + d).slice(-8000)
    })
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => resolve({ code, signal, at: now() }))
      this.child.once('error', () => resolve({ code: null, signal: null, at: now() }))
    })
    this.#timer = setInterval(() => void this.#sample(), SAMPLE_MS)
    void this.exited.then(() => clearInterval(this.#timer))
  }

  /** Calls `fn` for every stdout line, with the time it arrived. */
  onLine(fn: (line: string, at: number) => void): void {
    this.#lineListeners.add(fn)
  }

  /** Resolves with the first stdout line `match` accepts and its arrival time. */
  waitLine(match: (line: string) => boolean, timeoutMs: number): Promise<{ line: string; at: number }> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => done(new Error(`no matching output in ${timeoutMs} ms; stderr: ${this.stderr.slice(-500)}`)), timeoutMs)
      const fn = (line: string, at: number): void => {
        if (match(line)) done(undefined, { line, at })
      }
      const done = (err?: Error, value?: { line: string; at: number }): void => {
        clearTimeout(timer)
        this.#lineListeners.delete(fn)
        if (err) reject(err)
        else resolve(value!)
      }
      this.#lineListeners.add(fn)
      void this.exited.then(({ code }) => done(new Error(`exited ${code} first; stderr: ${this.stderr.slice(-500)}`)))
    })
  }

  /** Signals the process (SIGTERM by default) and waits for it to exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal)
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 20_000)
    await this.exited
    clearTimeout(timer)
  }

  async #sample(): Promise<void> {
    const pid = this.child.pid
    if (!pid) return
    try {
      const [status, stat, io] = await Promise.all([
        readFile(`/proc/${pid}/status`, 'utf8'),
        readFile(`/proc/${pid}/stat`, 'utf8'),
        readFile(`/proc/${pid}/io`, 'utf8')
      ])
      const hwm = /VmHWM:\s+(\d+) kB/.exec(status)
      if (hwm) this.usage.peakRssMiB = Math.max(this.usage.peakRssMiB, Number(hwm[1]) / 1024)
      const ticks = cpuTicks(stat)
      if (Number.isFinite(ticks)) this.usage.cpuSeconds = ticks / CLOCK_TICKS
      this.usage.writeBytes = Number(/^write_bytes: (\d+)/m.exec(io)?.[1] ?? this.usage.writeBytes)
      this.usage.readBytes = Number(/^read_bytes: (\d+)/m.exec(io)?.[1] ?? this.usage.readBytes)
      const threads: Record<string, number> = {}
      for (const tid of await readdir(`/proc/${pid}/task`)) {
        const t = await readFile(`/proc/${pid}/task/${tid}/stat`, 'utf8').catch(() => '')
        if (!t) continue
        const comm = t.slice(t.indexOf('(') + 1, t.lastIndexOf(')')).replace(/[-:]?\d+$/, '')
        // libuv's pool and V8's helpers are also called `node`; only the main thread has tid = pid
        const name = tid === String(pid) ? 'main thread' : comm === 'node' ? 'node helper threads' : comm
        threads[name] = (threads[name] ?? 0) + cpuTicks(t) / CLOCK_TICKS
      }
      // keep the busiest figure per name: threads that exited drop out of /proc
      for (const [name, secs] of Object.entries(threads)) this.usage.threads[name] = Math.max(this.usage.threads[name] ?? 0, secs)
    } catch {
      // exited between samples
    }
  }
}

/** utime + stime (clock ticks) from a /proc stat line; fields count from after the `(comm)`. */
function cpuTicks(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return Number(fields[11]) + Number(fields[12])
}

/** Sleeps for `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
