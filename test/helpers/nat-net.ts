import { type ChildProcess, execFile, execFileSync } from 'node:child_process'
import { once } from 'node:events'
import { promisify } from 'node:util'
import { type RunResult, type Running, hypership, start } from './cli.js'

const run = promisify(execFile)

/**
 * Two hosts, each behind its own NAT router, and a "public" network with a
 * host of its own, all in network namespaces (needs root, `ip`, `iptables`):
 *
 *   h1 10.0.1.2 ── r1 (MASQUERADE) 198.18.0.11 ─┐
 *                                                br0 198.18.0.1 (the public host, in ns "inet")
 *   h2 10.0.2.2 ── r2 (MASQUERADE) 198.18.0.12 ─┘
 *
 * The routers behave like home routers: outgoing traffic is masqueraded, and
 * nothing enters from the public side but replies to what went out
 * (conntrack ESTABLISHED/RELATED; everything else is dropped, also to the
 * router itself). Nothing is connected to the machine's own network.
 */
export interface NatNet {
  ns: { inet: string; r1: string; r2: string; h1: string; h2: string }
  publicHost: string
  /** Public (masqueraded) addresses of r1 and r2. */
  nat1: string
  nat2: string
  /** Starts `hypership ARGS` in namespace `ns`; resolves with its first stdout line. Killed by destroy(). */
  start(ns: string, args: string[], env?: NodeJS.ProcessEnv): Promise<Running>
  /** Runs `hypership ARGS` in `ns` to completion. */
  hypership(ns: string, args: string[], env?: NodeJS.ProcessEnv, timeoutMs?: number): Promise<RunResult>
  /** Runs a command in `ns`, returns stdout. */
  exec(ns: string, argv: string[]): Promise<string>
  /** Kills what start() started, then deletes every namespace. Safe to call twice. */
  destroy(): Promise<void>
}

/** Builds the NAT topology; names carry `tag` (use the pid) so parallel runs do not collide. */
export async function natNet(tag: string): Promise<NatNet> {
  const p = `hsn${tag}`
  const ns = { inet: `${p}inet`, r1: `${p}r1`, r2: `${p}r2`, h1: `${p}h1`, h2: `${p}h2` }
  const created: string[] = []
  const children = new Set<ChildProcess>()
  const ip = (...args: string[]) => run('ip', args)
  const inNs = (n: string, ...argv: string[]) => run('ip', ['netns', 'exec', n, ...argv])
  let destroyed = false
  const destroySync = () => {
    if (destroyed) return
    destroyed = true
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
    for (const n of [...created].reverse()) {
      try {
        execFileSync('ip', ['netns', 'del', n], { stdio: 'ignore' })
      } catch {
        // already gone
      }
    }
  }
  // even when the test process dies without running its hooks
  process.once('exit', destroySync)
  const destroy = async () => {
    for (const c of children) {
      if (c.exitCode === null && c.signalCode === null) {
        c.kill('SIGKILL')
        await once(c, 'exit').catch(() => {})
      }
    }
    destroySync()
    process.off('exit', destroySync)
  }
  try {
    for (const n of Object.values(ns)) {
      await ip('netns', 'add', n)
      created.push(n)
      await ip('-n', n, 'link', 'set', 'lo', 'up')
    }
    await ip('-n', ns.inet, 'link', 'add', 'br0', 'type', 'bridge')
    await ip('-n', ns.inet, 'addr', 'add', '198.18.0.1/24', 'dev', 'br0')
    await ip('-n', ns.inet, 'link', 'set', 'br0', 'up')
    for (const i of [1, 2] as const) {
      const r = ns[`r${i}`]
      const h = ns[`h${i}`]
      await ip('link', 'add', 'wan', 'netns', r, 'type', 'veth', 'peer', 'name', `p${i}`, 'netns', ns.inet)
      await ip('-n', ns.inet, 'link', 'set', `p${i}`, 'master', 'br0')
      await ip('-n', ns.inet, 'link', 'set', `p${i}`, 'up')
      await ip('-n', r, 'addr', 'add', `198.18.0.1${i}/24`, 'dev', 'wan')
      await ip('-n', r, 'link', 'set', 'wan', 'up')
      await ip('link', 'add', 'lan', 'netns', r, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', h)
      await ip('-n', r, 'addr', 'add', `10.0.${i}.1/24`, 'dev', 'lan')
      await ip('-n', r, 'link', 'set', 'lan', 'up')
      await ip('-n', h, 'addr', 'add', `10.0.${i}.2/24`, 'dev', 'eth0')
      await ip('-n', h, 'link', 'set', 'eth0', 'up')
      await ip('-n', h, 'route', 'add', 'default', 'via', `10.0.${i}.1`)
      await inNs(r, 'sysctl', '-qw', 'net.ipv4.ip_forward=1')
      await inNs(r, 'iptables', '-t', 'nat', '-A', 'POSTROUTING', '-o', 'wan', '-j', 'MASQUERADE')
      for (const chain of ['INPUT', 'FORWARD']) {
        await inNs(r, 'iptables', '-A', chain, '-i', 'wan', '-m', 'conntrack', '--ctstate', 'ESTABLISHED,RELATED', '-j', 'ACCEPT')
        await inNs(r, 'iptables', '-A', chain, '-i', 'wan', '-j', 'DROP')
      }
    }
  } catch (err) {
    await destroy()
    throw err
  }

  return {
    ns,
    publicHost: '198.18.0.1',
    nat1: '198.18.0.11',
    nat2: '198.18.0.12',
    async start(n, args, env = {}) {
      const running = await start(args, env, 60_000, { netns: n })
      children.add(running.child)
      running.child.once('exit', () => children.delete(running.child))
      return running
    },
    hypership: (n, args, env = {}, timeoutMs = 120_000) => hypership(args, env, timeoutMs, { netns: n }),
    async exec(n, argv) {
      return (await inNs(n, ...argv)).stdout
    },
    destroy
  }
}
