import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { buildImage, buildLayer, fullNames, ociEntries, writeEntries } from '../helpers/image-builder.js'
import { type NatNet, natNet } from '../helpers/nat-net.js'
import { tmpdir } from '../helpers/tmp.js'

let net: NatNet | undefined
const nets: NatNet[] = []
after(async () => {
  for (const n of nets) await n.destroy()
})

/** Bytes the router `r` forwarded into its LAN from `from` (the counting rule added below). */
async function forwardedFrom(r: string, from: string): Promise<number> {
  const out = await net!.exec(r, ['iptables', '-L', 'FORWARD', '-v', '-x', '-n'])
  const line = out.split('\n').find((l) => l.includes(from) && l.includes('ACCEPT'))
  return Number(line?.trim().split(/\s+/)[1] ?? 0)
}

test('two hosts behind separate NATs: the receiver hole-punches to the sharer through a public bootstrap and gets the image', async (t) => {
  assert.equal(process.getuid?.(), 0, 'this test builds network namespaces and needs root')
  net = await natNet(String(process.pid))
  nets.push(net)
  const { ns } = net
  // count what reaches h2 straight from h1's NAT (not through the public host)
  await net.exec(ns.r2, ['iptables', '-I', 'FORWARD', '1', '-i', 'wan', '-s', net.nat1, '-m', 'conntrack', '--ctstate', 'ESTABLISHED', '-j', 'ACCEPT'])

  const dir = await tmpdir()
  const layerBytes = 3_000_000
  const img = buildImage([await buildLayer({ files: { a: randomBytes(layerBytes) } })], ['docker.io/library/natted:1'], 'natted')
  await writeEntries(join(dir, 'layout'), ociEntries([img], fullNames))

  // the public side: a DHT big enough for NATed peers to sample their mapping
  const boot = await net.start(ns.inet, ['bootstrap', '--host', net.publicHost, '--port', '49737', '--nodes', '6'])
  const bootstrap = boot.firstLine.trim()
  assert.equal(bootstrap, `${net.publicHost}:49737`)
  const env = { HYPERSHIP_BOOTSTRAP: bootstrap, HYPERSHIP_NAT: '1' }

  const sharer = await net.start(ns.h1, ['share', '--store', await tmpdir(), `oci:${join(dir, 'layout')}`], env)
  const key = sharer.firstLine.trim()
  assert.match(key, /^[a-z0-9]{52}$/)

  const store = await tmpdir()
  const started = Date.now()
  const r = await net.hypership(ns.h2, ['receive', key, '--store', store, '--timeout', '40', '--json'], env)
  assert.equal(r.code, 0, `${r.stderr}\nsharer: ${sharer.stderr()}`)
  const summary = JSON.parse(r.stdout.trim().split('\n').pop()!) as { bytesReceived: number; images: Array<{ digest: string }> }
  assert.equal(summary.images[0]?.digest, img.manifestDigest)
  assert.ok(summary.bytesReceived >= layerBytes)
  const direct = await forwardedFrom(ns.r2, net.nat1)
  assert.ok(direct >= layerBytes, `only ${direct} bytes came straight from the sharer's NAT (${net.nat1})`)
  const ls = await net.hypership(ns.h2, ['ls', '--store', store])
  assert.match(ls.stdout, /natted/)
  t.diagnostic(`NAT transfer: ${summary.bytesReceived} bytes in ${Date.now() - started} ms, ${direct} bytes direct through the NATs`)
})

test('when hole punching cannot work (both NATs pick a new port per destination), the transfer goes through a blind relay on the public host', async (t) => {
  assert.equal(process.getuid?.(), 0, 'this test builds network namespaces and needs root')
  net = await natNet(`${process.pid}r`)
  nets.push(net)
  const { ns } = net
  for (const r of [ns.r1, ns.r2]) {
    // a symmetric NAT: every new destination gets a random source port
    await net.exec(r, ['iptables', '-t', 'nat', '-R', 'POSTROUTING', '1', '-o', 'wan', '-j', 'MASQUERADE', '--random-fully'])
  }
  for (const from of [net.nat1, net.publicHost]) {
    await net.exec(ns.r2, ['iptables', '-I', 'FORWARD', '1', '-i', 'wan', '-s', from, '-m', 'conntrack', '--ctstate', 'ESTABLISHED', '-j', 'ACCEPT'])
  }

  const dir = await tmpdir()
  const layerBytes = 3_000_000
  const img = buildImage([await buildLayer({ files: { a: randomBytes(layerBytes) } })], ['docker.io/library/relayed:1'], 'relayed')
  await writeEntries(join(dir, 'layout'), ociEntries([img], fullNames))

  const boot = await net.start(ns.inet, ['bootstrap', '--host', net.publicHost, '--port', '49737', '--nodes', '6'])
  const bootstrap = boot.firstLine.trim()
  const relay = await net.start(ns.inet, ['relay', '--store', await tmpdir(), '--bootstrap', bootstrap])
  const relayKey = relay.firstLine.trim()
  assert.match(relayKey, /^[a-z0-9]{52}$/)
  const env = { HYPERSHIP_BOOTSTRAP: bootstrap, HYPERSHIP_NAT: '1', HYPERSHIP_RELAY: relayKey }

  // the sharer knows no relay: only the receiver's --relay can bridge them
  const { HYPERSHIP_RELAY: _relay, ...noRelay } = env
  const sharer = await net.start(ns.h1, ['share', '--store', await tmpdir(), `oci:${join(dir, 'layout')}`], noRelay)
  const key = sharer.firstLine.trim()
  const store = await tmpdir()
  // without it these two cannot connect at all
  const stuck = await net.hypership(ns.h2, ['receive', key, '--store', await tmpdir(), '--timeout', '8'], noRelay)
  assert.equal(stuck.code, 1, stuck.stderr)
  assert.match(stuck.stderr, /\[HS_ERR_NO_PEERS\]/)
  const started = Date.now()
  const r = await net.hypership(ns.h2, ['receive', key, '--store', store, '--timeout', '40', '--json'], env)
  assert.equal(r.code, 0, `${r.stderr}\nsharer: ${sharer.stderr()}\nrelay: ${relay.stderr()}`)
  const summary = JSON.parse(r.stdout.trim().split('\n').pop()!) as { bytesReceived: number; images: Array<{ digest: string }> }
  assert.equal(summary.images[0]?.digest, img.manifestDigest)
  const direct = await forwardedFrom(ns.r2, net.nat1)
  const relayed = await forwardedFrom(ns.r2, net.publicHost)
  assert.ok(relayed >= layerBytes, `only ${relayed} bytes came through the public host`)
  assert.ok(direct < layerBytes / 10, `${direct} bytes came straight from the sharer's NAT: hole punching was not defeated`)
  t.diagnostic(`relayed transfer: ${summary.bytesReceived} bytes in ${Date.now() - started} ms; ${relayed} bytes via the public host, ${direct} direct`)
})
