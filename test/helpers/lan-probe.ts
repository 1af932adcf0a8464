/**
 * Run inside a test LAN namespace (test/p2p/lan-hostile.test.ts): starts a
 * LanDiscovery on ADDRESS, sends it forged mDNS answers from another socket
 * and prints, as one JSON line, the nodes it knew after each.
 */
import makeMdns from 'multicast-dns'
import { LanDiscovery } from '../../src/p2p/lan.js'

const address = process.argv[2] ?? ''
const local = { address, netmask: '255.255.255.0', iface: 'lan0' }
const discovery = new LanDiscovery({ local, port: 40000 })
await discovery.start()
const forger = makeMdns({ interface: address, bind: '0.0.0.0', reuseAddr: true })
await new Promise((resolve) => forger.once('ready', resolve))

const answer = (id: string, host: string, port: number, ttl = 120) => ({
  answers: [{ name: '_hypership._udp.local', type: 'PTR' as const, ttl, data: `${id}._hypership._udp.local` }],
  additionals: [
    { name: `${id}._hypership._udp.local`, type: 'SRV' as const, ttl, data: { port, target: `hs-${id}.local` } },
    { name: `hs-${id}.local`, type: 'A' as const, ttl, data: host }
  ]
})
const flood = answer('cccccccccccccccc', address.replace(/\.\d+$/, '.7'), 7777)
for (let i = 0; i < 40; i++) flood.additionals.push({ name: `x${i}.local`, type: 'A', ttl: 120, data: '10.0.0.1' })

const steps: Record<string, unknown> = {
  'off the subnet': answer('aaaaaaaaaaaaaaaa', '8.8.8.8', 1234),
  'not our instance name': answer('evil', address.replace(/\.\d+$/, '.8'), 1234),
  'port 0': answer('dddddddddddddddd', address.replace(/\.\d+$/, '.10'), 0),
  'too many records': flood,
  valid: answer('bbbbbbbbbbbbbbbb', address.replace(/\.\d+$/, '.9'), 4321),
  goodbye: answer('bbbbbbbbbbbbbbbb', address.replace(/\.\d+$/, '.9'), 4321, 0)
}
const seen: Record<string, unknown> = {}
for (const [name, packet] of Object.entries(steps)) {
  forger.respond(packet as Parameters<typeof forger.respond>[0])
  await new Promise((resolve) => setTimeout(resolve, 300))
  seen[name] = discovery.nodes()
}
await discovery.close()
forger.destroy()
process.stdout.write(`${JSON.stringify(seen)}\n`)
