import { type ChildProcess, type ChildProcessByStdio, spawn } from 'node:child_process'
import type { Readable } from 'node:stream'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { after } from 'node:test'

/** The hypership executable in this checkout. */
export const BIN = fileURLToPath(new URL('../../../bin/hypership.js', import.meta.url))

export interface RunResult {
  code: number | null
  stdout: string
  stderr: string
}

/** Where a hypership process runs: `netns` puts it in that network namespace. */
export interface Where {
  netns?: string
}

function spawnHypership(args: string[], env: NodeJS.ProcessEnv, where: Where): ChildProcessByStdio<null, Readable, Readable> {
  const argv = [process.execPath, BIN, ...args]
  const [cmd, ...rest] = where.netns ? ['ip', 'netns', 'exec', where.netns, ...argv] : argv
  return spawn(cmd ?? process.execPath, rest, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
}

/** Runs `hypership ARGS` to completion. */
export async function hypership(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 120_000, where: Where = {}): Promise<RunResult> {
  const child = spawnHypership(args, env, where)
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
  const [code] = (await once(child, 'close')) as [number | null]
  clearTimeout(timer)
  return { code, stdout, stderr }
}

/** A long-running hypership process whose first stdout line was read. */
export interface Running {
  child: ChildProcess
  firstLine: string
  stderr(): string
  /** Resolves when it exits by itself, with its exit code or the signal that killed it. */
  wait(): Promise<number | NodeJS.Signals | null>
  /** Sends SIGTERM (or `signal`) unless it already exited; resolves with the exit code, or the signal that killed it. */
  stop(signal?: NodeJS.Signals): Promise<number | NodeJS.Signals | null>
}

/**
 * Starts `hypership ARGS` and waits for its first stdout line (the share key,
 * or HOST:PORT for bootstrap). The process is stopped after the test.
 */
export async function start(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 60_000, where: Where = {}): Promise<Running> {
  const child = spawnHypership(args, env, where)
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>
  const firstLine = await new Promise<string>((resolve, reject) => {
    let buf = ''
    const timer = setTimeout(() => reject(new Error(`no output from hypership ${args.join(' ')} in ${timeoutMs} ms: ${stderr}`)), timeoutMs)
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      buf += d
      const nl = buf.indexOf('\n')
      if (nl !== -1) {
        clearTimeout(timer)
        resolve(buf.slice(0, nl))
      }
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`hypership ${args.join(' ')} exited ${code} before printing: ${stderr}`))
    })
  })
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal)
    const [code, killedBy] = await exited
    return code ?? killedBy
  }
  const wait = async () => {
    const [code, killedBy] = await exited
    return code ?? killedBy
  }
  after(() => stop('SIGKILL').catch(() => {}))
  return { child, firstLine, stderr: () => stderr, stop, wait }
}

/** Starts `hypership bootstrap` on loopback and returns it with its HOST:PORT. */
export async function localDht(): Promise<Running & { bootstrap: string }> {
  const proc = await start(['bootstrap', '--host', '127.0.0.1'])
  return { ...proc, bootstrap: proc.firstLine.trim() }
}
