import { run } from './proc.js'

/** Two network namespaces joined by a veth pair, each end rate-limited with tc. */
export interface LinkedPair {
  a: { ns: string; ip: string }
  b: { ns: string; ip: string }
  rateMbit: number
  /** Runs `cmd` inside namespace `ns` (argv for spawn). */
  exec(ns: string, argv: string[]): string[]
  destroy(): Promise<void>
}

/**
 * Creates namespaces `${prefix}a` and `${prefix}b` (names unique per bench
 * process), a veth pair between them on 10.250.N.1/2 and a token-bucket
 * qdisc of `rateMbit` on both ends. Nothing is attached to the host's
 * network. The caller must `destroy()`, even on failure.
 */
export async function linkedPair(prefix: string, subnet: number, rateMbit: number): Promise<LinkedPair> {
  const a = { ns: `${prefix}a`, ip: `10.250.${subnet}.1` }
  const b = { ns: `${prefix}b`, ip: `10.250.${subnet}.2` }
  const created: string[] = []
  const destroy = async () => {
    for (const ns of created.reverse()) await run('ip', ['netns', 'del', ns], { allowFail: true })
  }
  try {
    for (const side of [a, b]) {
      await run('ip', ['netns', 'add', side.ns])
      created.push(side.ns)
      await run('ip', ['-n', side.ns, 'link', 'set', 'lo', 'up'])
    }
    await run('ip', ['link', 'add', 'hsbv0', 'netns', a.ns, 'type', 'veth', 'peer', 'name', 'hsbv1', 'netns', b.ns])
    for (const [side, dev] of [[a, 'hsbv0'], [b, 'hsbv1']] as const) {
      await run('ip', ['-n', side.ns, 'addr', 'add', `${side.ip}/24`, 'dev', dev])
      await run('ip', ['-n', side.ns, 'link', 'set', dev, 'up'])
      // burst must cover at least one timer tick at this rate
      await run('ip', ['netns', 'exec', side.ns, 'tc', 'qdisc', 'add', 'dev', dev, 'root', 'tbf', 'rate', `${rateMbit}mbit`, 'burst', '1mb', 'latency', '20ms'])
    }
  } catch (err) {
    await destroy()
    throw err
  }
  return { a, b, rateMbit, exec: (ns, argv) => ['netns', 'exec', ns, ...argv], destroy }
}

/** Hosts in their own namespaces, each linked to one bridge ("switch") namespace. */
export interface Star {
  hosts: Array<{ ns: string; ip: string }>
  rateMbit: number
  destroy(): Promise<void>
}

/**
 * Creates `count` host namespaces `${prefix}h0…` and a bridge namespace
 * `${prefix}br`; host i gets 10.251.N.(i+1)/24 on a veth whose both ends
 * carry a `rateMbit` token bucket, so each host's uplink and downlink are
 * capped. Nothing touches the host's own network; `destroy()` removes all.
 */
export async function star(prefix: string, subnet: number, count: number, rateMbit: number): Promise<Star> {
  const created: string[] = []
  const destroy = async () => {
    for (const ns of created.reverse()) await run('ip', ['netns', 'del', ns], { allowFail: true })
  }
  const tbf = (ns: string, dev: string) =>
    run('ip', ['netns', 'exec', ns, 'tc', 'qdisc', 'add', 'dev', dev, 'root', 'tbf', 'rate', `${rateMbit}mbit`, 'burst', '256kb', 'latency', '50ms'])
  const hosts = Array.from({ length: count }, (_, i) => ({ ns: `${prefix}h${i}`, ip: `10.251.${subnet}.${i + 1}` }))
  const bridge = `${prefix}br`
  try {
    await run('ip', ['netns', 'add', bridge])
    created.push(bridge)
    await run('ip', ['-n', bridge, 'link', 'add', 'br0', 'type', 'bridge'])
    await run('ip', ['-n', bridge, 'link', 'set', 'br0', 'up'])
    for (const [i, h] of hosts.entries()) {
      await run('ip', ['netns', 'add', h.ns])
      created.push(h.ns)
      await run('ip', ['-n', h.ns, 'link', 'set', 'lo', 'up'])
      await run('ip', ['link', 'add', `hv${i}`, 'netns', h.ns, 'type', 'veth', 'peer', 'name', `hb${i}`, 'netns', bridge])
      await run('ip', ['-n', h.ns, 'addr', 'add', `${h.ip}/24`, 'dev', `hv${i}`])
      await run('ip', ['-n', h.ns, 'link', 'set', `hv${i}`, 'up'])
      await run('ip', ['-n', bridge, 'link', 'set', `hb${i}`, 'master', 'br0'])
      await run('ip', ['-n', bridge, 'link', 'set', `hb${i}`, 'up'])
      await tbf(h.ns, `hv${i}`)
      await tbf(bridge, `hb${i}`)
    }
  } catch (err) {
    await destroy()
    throw err
  }
  return { hosts, rateMbit, destroy }
}
