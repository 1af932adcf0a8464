import { writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { Proc, run, sleep } from './proc.js'

/** A free TCP port on 127.0.0.1 (bound, read, released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number }
      srv.close(() => resolve(port))
    })
  })
}

/** A Debian docker-registry listening on 127.0.0.1 only, storing under `dir`. */
export interface Registry {
  address: string
  stop(): Promise<void>
}

/**
 * Starts `docker-registry serve` with its own config (never the package's,
 * which listens on every interface) and waits for `GET /v2/`.
 */
export async function startRegistry(dir: string, at?: { ns: string; ip: string }): Promise<Registry> {
  // inside a namespace nothing else listens, so any fixed port is free
  const port = at ? 5000 : await freePort()
  const address = `${at?.ip ?? '127.0.0.1'}:${port}`
  const config = join(dir, 'config.yml')
  await writeFile(
    config,
    [
      'version: 0.1',
      'log:',
      '  level: warn',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${join(dir, 'data')}`,
      'http:',
      `  addr: ${address}`,
      '  secret: hypership-bench',
      ''
    ].join('\n')
  )
  const proc = at ? new Proc('ip', ['netns', 'exec', at.ns, 'docker-registry', 'serve', config]) : new Proc('docker-registry', ['serve', config])
  const deadline = Date.now() + 20_000
  for (;;) {
    const ok = at
      ? (await run('ip', ['netns', 'exec', at.ns, 'curl', '-sf', '-o', '/dev/null', `http://${address}/v2/`], { allowFail: true })).code === 0
      : await fetch(`http://${address}/v2/`).then((r) => r.ok, () => false)
    if (ok) break
    if (Date.now() > deadline || proc.child.exitCode !== null) {
      await proc.stop('SIGKILL')
      throw new Error(`docker-registry did not come up on ${address}: ${proc.stderr.slice(-500)}`)
    }
    await sleep(50)
  }
  return { address, stop: () => proc.stop() }
}
