import { execFile, execFileSync } from 'node:child_process'
import { promisify } from 'node:util'
import { after } from 'node:test'

const run = promisify(execFile)

/** One "host" of a test LAN: a network namespace with one interface on the bridge. */
export interface LanHost {
  ns: string
  ip: string
  /** Its interface's name inside the namespace. */
  iface: string
}

/** A LAN of namespaces joined by a bridge, with no route anywhere else. */
export interface TestLan {
  hosts: LanHost[]
  /** The namespace that holds the bridge. */
  bridge: string
  /** Runs `argv` in `host`'s namespace and returns its stdout. */
  exec(host: LanHost, argv: string[]): Promise<string>
  destroy(): Promise<void>
}

let made = 0
const live = new Set<string>()
let hooked = false

/** Removes namespaces synchronously: the last resort when the test process exits early. */
function removeNow(names: string[]): void {
  for (const ns of names) {
    try {
      execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' })
    } catch {
      // already gone
    }
    live.delete(ns)
  }
}

/**
 * Creates `count` host namespaces and a bridge namespace, host i on
 * 10.254.0.(i+1)/24 over a veth to the bridge, loopback up, no default
 * route (nothing can leave the LAN). `rateMbit` adds a token-bucket cap on
 * both ends of every host's veth. Names carry the pid and a counter, so
 * parallel runs never collide. Torn down after the test file (an `after`
 * hook) and, failing that, when the process exits.
 */
export async function createLan(count: number, options: { rateMbit?: number } = {}): Promise<TestLan> {
  const prefix = `hsl${process.pid}x${made++}`
  const bridge = `${prefix}br`
  const hosts = Array.from({ length: count }, (_, i) => ({ ns: `${prefix}h${i}`, ip: `10.254.0.${i + 1}`, iface: 'lan0' }))
  const created: string[] = []
  if (!hooked) {
    hooked = true
    process.once('exit', () => removeNow([...live]))
    // a test run killed from outside still leaves no namespaces behind
    for (const sig of ['SIGINT', 'SIGTERM'] as const) {
      process.once(sig, () => {
        removeNow([...live])
        process.exit(128 + (sig === 'SIGINT' ? 2 : 15))
      })
    }
  }
  const ip = (args: string[]) => run('ip', args)
  const addNs = async (ns: string) => {
    await ip(['netns', 'add', ns])
    created.push(ns)
    live.add(ns)
    await ip(['-n', ns, 'link', 'set', 'lo', 'up'])
  }
  const tbf = (ns: string, dev: string) =>
    run('ip', ['netns', 'exec', ns, 'tc', 'qdisc', 'add', 'dev', dev, 'root', 'tbf', 'rate', `${options.rateMbit}mbit`, 'burst', '1mb', 'latency', '20ms'])
  const destroy = async () => removeNow(created.splice(0).reverse())
  after(destroy)
  try {
    await addNs(bridge)
    await ip(['-n', bridge, 'link', 'add', 'br0', 'type', 'bridge'])
    await ip(['-n', bridge, 'link', 'set', 'br0', 'up'])
    for (const [i, h] of hosts.entries()) {
      await addNs(h.ns)
      await ip(['link', 'add', h.iface, 'netns', h.ns, 'type', 'veth', 'peer', 'name', `p${i}`, 'netns', bridge])
      await ip(['-n', h.ns, 'addr', 'add', `${h.ip}/24`, 'dev', h.iface])
      await ip(['-n', h.ns, 'link', 'set', h.iface, 'up'])
      await ip(['-n', bridge, 'link', 'set', `p${i}`, 'master', 'br0'])
      await ip(['-n', bridge, 'link', 'set', `p${i}`, 'up'])
      if (options.rateMbit) {
        await tbf(h.ns, h.iface)
        await tbf(bridge, `p${i}`)
      }
    }
  } catch (err) {
    await destroy()
    throw err
  }
  const exec = async (host: LanHost, argv: string[]) => (await run('ip', ['netns', 'exec', host.ns, ...argv])).stdout
  return { hosts, bridge, exec, destroy }
}
