import type { ChildProcess } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import http from 'node:http'

/**
 * A background service a test started (dockerd, podman's API service) that
 * answers `GET /_ping` on a unix socket.
 */
export interface Service {
  readonly alive: boolean
  /** Resolves once the process is gone. */
  readonly exited: Promise<void>
  /**
   * SIGTERM and wait; after `graceMs`, `onStuck` (e.g. kill its children)
   * and SIGKILL. Resolves once it is gone.
   */
  terminate(graceMs: number, onStuck?: () => Promise<void>): Promise<void>
  /**
   * Resolves once the socket answers `_ping`; otherwise throws an error that
   * names `what` and quotes the end of its log.
   */
  ready(socketPath: string, logPath: string, timeoutMs: number, what: string): Promise<void>
}

const running = new Set<ChildProcess>()
let exitHookInstalled = false

/**
 * Watches `child`. A test that forgets to stop it leaves nothing behind and
 * is not kept alive waiting for it: it is unref'd and sent SIGTERM when the
 * test process exits.
 */
export function supervise(child: ChildProcess): Service {
  let alive = true
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve())
    child.once('error', () => resolve())
  }).then(() => {
    alive = false
    running.delete(child)
  })
  running.add(child)
  child.unref()
  if (!exitHookInstalled) {
    exitHookInstalled = true
    process.once('exit', () => {
      for (const c of running) c.kill('SIGTERM')
    })
  }

  return {
    get alive() {
      return alive
    },
    exited,
    async terminate(graceMs, onStuck) {
      if (!alive) return
      child.kill('SIGTERM')
      if (await within(exited, graceMs)) return
      await onStuck?.()
      child.kill('SIGKILL')
      await exited
    },
    async ready(socketPath, logPath, timeoutMs, what) {
      const deadline = Date.now() + timeoutMs
      while (!(await ping(socketPath))) {
        if (!alive || Date.now() > deadline) {
          const tail = (await readFile(logPath, 'utf8').catch(() => '')).split('\n').slice(-20).join('\n')
          const why = alive ? `did not answer _ping within ${timeoutMs / 1000} s` : 'exited during startup'
          throw new Error(`${what} ${why}; log tail:\n${tail}`)
        }
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
    }
  }
}

function ping(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ socketPath, path: '/_ping', agent: false, timeout: 2000 }, (res) => {
      res.resume()
      resolve(res.statusCode === 200)
    })
    req.once('error', () => resolve(false))
    req.once('timeout', () => {
      req.destroy()
      resolve(false)
    })
  })
}

async function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms)
  })
  try {
    return await Promise.race([p.then(() => true), timeout])
  } finally {
    clearTimeout(timer)
  }
}
