import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { test } from 'node:test'
import packet from 'dns-packet'
import { decodeShareKey } from '../../src/p2p/share-key.js'
import { discoveryKey } from 'hypercore-crypto'
import { hypership, start } from '../helpers/cli.js'
import { buildImage, buildLayer, fullNames, ociEntries, writeEntries } from '../helpers/image-builder.js'
import { type LanHost, createLan } from '../helpers/netns.js'
import { tmpdir } from '../helpers/tmp.js'

// No --bootstrap anywhere: an empty HYPERSHIP_BOOTSTRAP counts as unset.
const NO_FLAGS = { HYPERSHIP_BOOTSTRAP: '' }
const SECRET_STREAM = fileURLToPath(new URL('../../../node_modules/@hyperswarm/secret-stream/index.js', import.meta.url))

interface Summary {
  type: string
  images: Array<{ id: string; names: string[] }>
  bytesReceived: number
  bytesByTransport: { tcp: number; swarm: number }
}

const summaryOf = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as Summary

async function sampleLayout(mib: number) {
  const image = buildImage([await buildLayer({ files: { 'data.bin': randomBytes(mib << 20) } })], ['docker.io/library/lan:1'])
  const layout = join(await tmpdir(), 'layout')
  await writeEntries(layout, ociEntries([image], fullNames))
  return { image, layout }
}

/** Every UDP datagram to the mDNS group that `host` hears until stopped, as raw bytes. */
function captureMdns(host: LanHost) {
  const script = `
    const s = require('node:dgram').createSocket({ type: 'udp4', reuseAddr: true })
    s.on('message', (m) => process.stdout.write(m.toString('hex') + '\\n'))
    s.bind(5353, '0.0.0.0', () => { s.addMembership('224.0.0.251', '${host.ip}'); process.stdout.write('ready\\n') })
    process.on('SIGTERM', () => process.exit(0))`
  const child = spawn('ip', ['netns', 'exec', host.ns, process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  const ready = new Promise<void>((resolve) => child.stdout.setEncoding('utf8').on('data', (d: string) => ((out += d), out.includes('ready\n') && resolve())))
  const stop = async () => {
    child.kill('SIGTERM')
    await new Promise((resolve) => child.once('close', resolve))
    return out.split('\n').filter((l) => /^[0-9a-f]+$/.test(l)).map((l) => Buffer.from(l, 'hex'))
  }
  return { ready, stop, child }
}

test('three hosts on a LAN with no route out: share on one, receive on another with no flags, over the fast path; a third hears only bootstrap addresses', async () => {
  const lan = await createLan(3)
  const [a, b, c] = lan.hosts as [LanHost, LanHost, LanHost]
  // no default route: nothing in these namespaces can reach the internet
  assert.doesNotMatch(await lan.exec(a, ['ip', 'route']), /default/)

  const capture = captureMdns(c)
  await capture.ready
  const { image, layout } = await sampleLayout(24)
  const sharer = await start(['share', '--store', await tmpdir(), `oci:${layout}`], NO_FLAGS, 60_000, { netns: a.ns })
  const key = sharer.firstLine.trim()
  assert.match(key, /^[a-z0-9]{52}$/)

  const r = await hypership(['receive', key, '--store', await tmpdir(), '--json', '--timeout', '20'], { ...NO_FLAGS, DEBUG: 'hypership:p2p' }, 90_000, { netns: b.ns })
  assert.equal(r.code, 0, r.stderr)
  const summary = summaryOf(r.stdout)
  assert.equal(summary.images[0]?.id, image.configDigest)
  assert.ok(summary.bytesReceived >= 24 << 20, `bytesReceived ${summary.bytesReceived}`)
  // every verified byte came over the TCP fast path, none over UDX
  assert.deepEqual(summary.bytesByTransport, { tcp: summary.bytesReceived, swarm: 0 })
  assert.match(r.stderr, /lan: found [0-9a-f]{16} at 10\.254\.0\.1:\d+/)
  assert.match(r.stderr, /fast path to [0-9a-f]{12}: replicating over TCP/)

  assert.equal(await sharer.stop(), 0, sharer.stderr())
  const packets = await capture.stop()
  assert.ok(packets.length >= 2, `heard ${packets.length} mDNS packets`)
  const shareKey = decodeShareKey(key)
  const forbidden = [shareKey, discoveryKey(shareKey)].flatMap((k) => [k, Buffer.from(k.toString('hex')), Buffer.from(k.toString('base64'))])
  forbidden.push(Buffer.from(key))
  const advertised = new Set<string>()
  for (const raw of packets) {
    for (const f of forbidden) assert.equal(raw.indexOf(f), -1, 'an mDNS packet carries the share key or its topic')
    const p = packet.decode(raw)
    for (const rec of [...(p.answers ?? []), ...(p.additionals ?? [])]) {
      // only the DNS-SD records of a bootstrap address: PTR, SRV, TXT v=1, A
      assert.ok(['PTR', 'SRV', 'TXT', 'A'].includes(rec.type), `unexpected ${rec.type} record`)
      if (rec.type === 'TXT') assert.deepEqual((rec.data as Buffer[]).map(String), ['v=1'])
      if (rec.type === 'A') advertised.add(rec.data)
    }
  }
  assert.deepEqual([...advertised].sort(), [a.ip, b.ip])
})

test('--no-lan on the same LAN finds nobody (HS_ERR_NO_PEERS)', async () => {
  const lan = await createLan(2)
  const [a, b] = lan.hosts as [LanHost, LanHost]
  const { layout } = await sampleLayout(1)
  const sharer = await start(['share', '--store', await tmpdir(), `oci:${layout}`], NO_FLAGS, 60_000, { netns: a.ns })
  const r = await hypership(['receive', sharer.firstLine.trim(), '--store', await tmpdir(), '--no-lan', '--timeout', '3'], NO_FLAGS, 60_000, { netns: b.ns })
  assert.equal(r.code, 1, r.stderr)
  assert.match(r.stderr, /HS_ERR_NO_PEERS/)
  assert.equal(await sharer.stop(), 0, sharer.stderr())
})

test('a daemon on the LAN seeds to a one-shot receive; with TCP blocked between the hosts the bytes fall back to the swarm', async () => {
  const lan = await createLan(2)
  const [a, b] = lan.hosts as [LanHost, LanHost]
  // refuse every TCP connection on both hosts: the fast path cannot be set up
  for (const h of [a, b]) await lan.exec(h, ['iptables', '-A', 'INPUT', '-p', 'tcp', '!', '-i', 'lo', '-j', 'REJECT', '--reject-with', 'tcp-reset'])
  const { image, layout } = await sampleLayout(8)
  const store = await tmpdir()
  const daemon = await start(['daemon', '--store', store], NO_FLAGS, 60_000, { netns: a.ns })
  const shared = await hypership(['share', '--store', store, `oci:${layout}`], NO_FLAGS, 60_000, { netns: a.ns })
  assert.equal(shared.code, 0, shared.stderr)

  const r = await hypership(['receive', shared.stdout.trim(), '--store', await tmpdir(), '--json', '--timeout', '20'], { ...NO_FLAGS, DEBUG: 'hypership:p2p' }, 90_000, { netns: b.ns })
  assert.equal(r.code, 0, r.stderr)
  const summary = summaryOf(r.stdout)
  assert.equal(summary.images[0]?.id, image.configDigest)
  assert.deepEqual(summary.bytesByTransport, { tcp: 0, swarm: summary.bytesReceived })
  assert.ok(summary.bytesReceived >= 8 << 20)
  assert.match(r.stderr, /fast path to [0-9a-f]{12} unused/)

  const status = await hypership(['status', '--store', store, '--json'], {}, 30_000, { netns: a.ns })
  const s = JSON.parse(status.stdout) as { network: { lan: { bootstrap: string; nodes: Array<{ host: string }> } | null } }
  assert.match(s.network.lan?.bootstrap ?? '', /^10\.254\.0\.1:\d+$/)
  assert.equal(await daemon.stop(), 0, daemon.stderr())
})

test("the fast path's TCP listener refuses a Noise stream from a key it offered nothing to", async () => {
  const lan = await createLan(3)
  const [a, b, c] = lan.hosts as [LanHost, LanHost, LanHost]
  const { layout } = await sampleLayout(2)
  const store = await tmpdir()
  const daemon = await start(['daemon', '--store', store], { ...NO_FLAGS, DEBUG: 'hypership:p2p' }, 60_000, { netns: a.ns })
  const shared = await hypership(['share', '--store', store, `oci:${layout}`], NO_FLAGS, 60_000, { netns: a.ns })
  assert.equal(shared.code, 0, shared.stderr)
  const r = await hypership(['receive', shared.stdout.trim(), '--store', await tmpdir(), '--json', '--timeout', '20'], NO_FLAGS, 90_000, { netns: b.ns })
  assert.equal(r.code, 0, r.stderr)
  assert.ok(summaryOf(r.stdout).bytesByTransport.tcp > 0)

  // the receiver dialled the daemon, so the daemon holds the listener
  const status = await hypership(['status', '--store', store, '--json'], {}, 30_000, { netns: a.ns })
  const listener = (JSON.parse(status.stdout) as { network: { fastPath: Array<{ host: string; port: number }> } }).network.fastPath[0]
  assert.equal(listener?.host, a.ip, status.stdout)

  const probe = `
    const Noise = require(${JSON.stringify(SECRET_STREAM)})
    const s = new Noise(true, require('node:net').connect(${listener?.port}, '${a.ip}'))
    let got = 0
    s.on('data', (d) => (got += d.length))
    s.on('error', () => {})
    s.opened.then((ok) => { s.write(Buffer.alloc(64)); process.stdout.write('opened ' + ok + '\\n') })
    s.on('close', () => { process.stdout.write('closed ' + got + '\\n'); process.exit(0) })
    setTimeout(() => { process.stdout.write('still open\\n'); process.exit(0) }, 8000)`
  const said = await lan.exec(c, [process.execPath, '-e', probe])
  assert.match(said, /closed 0/, said)
  assert.doesNotMatch(said, /still open/)
  assert.equal(await daemon.stop(), 0, daemon.stderr())
  assert.match(daemon.stderr(), /refusing a TCP stream from a key we offered nothing to/)
})

test('with --bootstrap nothing is multicast, and same-subnet peers still use the fast path', async () => {
  const lan = await createLan(3)
  const [a, b, c] = lan.hosts as [LanHost, LanHost, LanHost]
  const capture = captureMdns(c)
  await capture.ready
  const dht = await start(['bootstrap', '--host', a.ip], {}, 60_000, { netns: a.ns })
  const net = { HYPERSHIP_BOOTSTRAP: dht.firstLine.trim() }
  const { image, layout } = await sampleLayout(4)
  const sharer = await start(['share', '--store', await tmpdir(), `oci:${layout}`], net, 60_000, { netns: a.ns })
  const r = await hypership(['receive', sharer.firstLine.trim(), '--store', await tmpdir(), '--json', '--timeout', '20'], net, 90_000, { netns: b.ns })
  assert.equal(r.code, 0, r.stderr)
  const summary = summaryOf(r.stdout)
  assert.equal(summary.images[0]?.id, image.configDigest)
  assert.deepEqual(summary.bytesByTransport, { tcp: summary.bytesReceived, swarm: 0 })
  assert.equal(await sharer.stop(), 0, sharer.stderr())
  await dht.stop()
  assert.deepEqual(await capture.stop(), [], 'a command given --bootstrap sent mDNS packets')
})
