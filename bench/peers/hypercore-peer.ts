/**
 * The floor of hypership's stack: one plain hypercore replicated over
 * hyperswarm with the same settings hypership uses on a private DHT
 * (`firewalled: false`), no image logic, no sha256, no store index.
 *
 *   node hypercore-peer.js seed FILE STORE BOOTSTRAP   appends FILE in 1 MiB blocks, prints the key, seeds until SIGTERM
 *   node hypercore-peer.js fetch KEY STORE BOOTSTRAP   downloads every block, prints {"ms","bytes"}
 */
import { createReadStream } from 'node:fs'
import { performance } from 'node:perf_hooks'
import Corestore from 'corestore'
import DHT from 'hyperdht'
import Hyperswarm from 'hyperswarm'

const BLOCK = 1 << 20
const [mode, arg, storeDir, bootstrap] = process.argv.slice(2)
if (!mode || !arg || !storeDir || !bootstrap) throw new Error('usage: hypercore-peer seed|fetch FILE|KEY STORE BOOTSTRAP')

const store = new Corestore(storeDir)
const swarm = new Hyperswarm({ dht: new DHT({ bootstrap: [bootstrap], firewalled: false }) })
swarm.on('connection', (conn) => store.replicate(conn))

if (mode === 'seed') {
  const core = store.get({ name: 'floor' })
  await core.ready()
  let pending = Buffer.alloc(0)
  for await (const chunk of createReadStream(arg, { highWaterMark: BLOCK })) {
    pending = Buffer.concat([pending, chunk as Buffer])
    const blocks: Buffer[] = []
    while (pending.length >= BLOCK) {
      blocks.push(pending.subarray(0, BLOCK))
      pending = pending.subarray(BLOCK)
    }
    if (blocks.length) await core.append(blocks)
  }
  if (pending.length) await core.append(pending)
  await swarm.join(core.discoveryKey, { server: true, client: false }).flushed()
  process.stdout.write(`${core.key.toString('hex')}\n`)
  await new Promise((resolve) => process.once('SIGTERM', resolve))
} else {
  const t0 = performance.now()
  const core = store.get({ key: Buffer.from(arg, 'hex') })
  await core.ready()
  const done = core.findingPeers()
  swarm.join(core.discoveryKey, { server: false, client: true })
  swarm.flush().then(done, done)
  // like hypership's receive: wait for a peer, re-asking every half second, for at most a minute
  const deadline = Date.now() + 60_000
  while (core.length === 0) {
    if (Date.now() > deadline) throw new Error('no peer served the core within 60 s')
    await Promise.race([core.update({ wait: true }), new Promise((resolve) => setTimeout(resolve, 500))])
    if (core.length === 0) await new Promise((resolve) => setTimeout(resolve, 200))
  }
  await core.download({ start: 0, end: core.length }).done()
  process.stdout.write(`${JSON.stringify({ ms: performance.now() - t0, bytes: core.byteLength })}\n`)
}
await swarm.destroy()
await store.close()
