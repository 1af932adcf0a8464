import { fileURLToPath } from 'node:url'
import { Proc, type Usage, now } from './proc.js'

/** The hypership CLI of this checkout (override with HYPERSHIP_BIN). */
export const BIN = process.env.HYPERSHIP_BIN ?? fileURLToPath(new URL('../../../bin/hypership.js', import.meta.url))

/** Node flags for a profiled run: a .cpuprofile lands in `dir` on exit. */
export function profileFlags(dir: string | undefined): string[] {
  return dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : []
}

/** Spawns the CLI, inside network namespace `ns` when given. */
function cli(args: string[], env: NodeJS.ProcessEnv = {}, profileDir?: string, ns?: string): Proc {
  const argv = [process.execPath, ...profileFlags(profileDir), BIN, ...args]
  return ns ? new Proc('ip', ['netns', 'exec', ns, ...argv], { DEBUG: '', ...env }) : new Proc(argv[0]!, argv.slice(1), { DEBUG: '', ...env })
}

/** `hypership bootstrap` on `host`: a private DHT; never the public one. */
export async function startDht(host = '127.0.0.1', ns?: string, port = '0'): Promise<{ proc: Proc; address: string }> {
  const proc = cli(['bootstrap', '--host', host, '--port', port], {}, undefined, ns)
  const { line } = await proc.waitLine(() => true, 30_000)
  return { proc, address: line.trim() }
}

/** A running `hypership share`. */
export interface Sharer {
  proc: Proc
  key: string
  /** ms from spawn until the key was printed (import + publish + announce). */
  readyMs: number
}

/** Starts `hypership share --json SOURCES` on a private DHT and waits for the key. */
export async function startShare(store: string, sources: string[], bootstrap: string, profileDir?: string, ns?: string): Promise<Sharer> {
  const proc = cli(['share', '--json', '--store', store, '--bootstrap', bootstrap, ...sources], {}, profileDir, ns)
  const { line, at } = await proc.waitLine((l) => l.startsWith('{'), 600_000)
  const key = (JSON.parse(line) as { key: string }).key
  return { proc, key, readyMs: at - proc.started }
}

/** The summary line `receive --json` prints last. */
export interface ReceiveSummary {
  images: Array<{ digest: string; id: string; names: string[]; size: number }>
  bytesReceived: number
  /** Bytes hashed again from the store in this run (absent before bytesHashed existed). */
  bytesHashed?: number
  blobsFetched: number
  blobsSkipped: number
  /** Chunk bytes by connection type: the TCP fast path or the swarm's UDX (absent before the fast path existed). */
  bytesByTransport?: { tcp: number; swarm: number }
}

/** The share of a receive's chunk bytes that came over the TCP fast path, or NaN when not reported. */
export function fastPathShare(summary: ReceiveSummary | undefined): number {
  const t = summary?.bytesByTransport
  return t && t.tcp + t.swarm > 0 ? t.tcp / (t.tcp + t.swarm) : NaN
}

/** What one `hypership receive --json` run showed. */
export interface ReceiveRun {
  code: number | null
  signal: NodeJS.Signals | null
  ms: number
  /** ms from spawn to the catalog event (peer found, catalog read). */
  catalogMs?: number
  /** ms from spawn to the first progress event (first verified chunk). */
  firstChunkMs?: number
  /** ms from spawn to the last blob's `verified` event. */
  lastVerifiedMs?: number
  summary?: ReceiveSummary
  /** Bytes the blob events said were already held, summed. */
  heldBytes: number
  /** Last progress figure before exit. */
  lastProgressBytes: number
  peakRssMiB: number
  cpuSeconds: number
  threads: Record<string, number>
  writeBytes: number
  stderr: string
}

export interface ReceiveOptions {
  output?: string
  load?: boolean
  env?: NodeJS.ProcessEnv
  profileDir?: string
  /** SIGKILL the receiver once progress reaches this many bytes. */
  killAtBytes?: number
  /** Run inside this network namespace. */
  ns?: string
}

/** Runs `hypership receive --json KEY` to completion (or to `killAtBytes`). */
export async function receive(store: string, key: string, bootstrap: string, opts: ReceiveOptions = {}): Promise<ReceiveRun> {
  const args = ['receive', '--json', '--store', store, '--bootstrap', bootstrap, '--timeout', '60', key]
  if (opts.output) args.push('-o', opts.output)
  if (opts.load) args.push('--load')
  const proc = cli(args, opts.env, opts.profileDir, opts.ns)
  const run: Partial<ReceiveRun> & { heldBytes: number; lastProgressBytes: number } = { heldBytes: 0, lastProgressBytes: 0 }
  proc.onLine((line, at) => {
    let e: { type?: string; bytes?: number; have?: number } & Partial<ReceiveSummary>
    try {
      e = JSON.parse(line) as typeof e
    } catch {
      return
    }
    if (e.type === 'catalog') run.catalogMs ??= at - proc.started
    if (e.type === 'blob') run.heldBytes += e.have ?? 0
    if (e.type === 'verified') run.lastVerifiedMs = at - proc.started
    if (e.type === 'progress') {
      run.firstChunkMs ??= at - proc.started
      run.lastProgressBytes = e.bytes ?? 0
      if (opts.killAtBytes !== undefined && run.lastProgressBytes >= opts.killAtBytes) proc.child.kill('SIGKILL')
    }
    if (e.type === 'summary') run.summary = e as ReceiveSummary
  })
  const exit = await proc.exited
  return {
    ...run,
    code: exit.code,
    signal: exit.signal,
    ms: exit.at - proc.started,
    peakRssMiB: proc.usage.peakRssMiB,
    cpuSeconds: proc.usage.cpuSeconds,
    threads: proc.usage.threads,
    writeBytes: proc.usage.writeBytes,
    stderr: proc.stderr
  }
}

/** Runs a one-shot hypership command, e.g. `load`; resolves with its wall time and CPU seconds. */
export async function hypershipOnce(args: string[], profileDir?: string): Promise<{ ms: number; usage: Usage }> {
  const t0 = now()
  const proc = cli(args, {}, profileDir)
  const exit = await proc.exited
  if (exit.code !== 0) throw new Error(`hypership ${args.join(' ')} exited ${exit.code}: ${proc.stderr.slice(-500)}`)
  return { ms: now() - t0, usage: proc.usage }
}
