import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { test } from 'node:test'
import { createSwarm } from '../../src/p2p/swarm.js'
import { localDht } from '../helpers/cli.js'

const SWARM = new URL('../../src/p2p/swarm.js', import.meta.url).href

// hyperdht 6.33–6.34 left connections between two processes on one host
// half-open for ~15 s (hyperdht#304). With the pinned stack both sides see the
// connection and exchange data at once; this guards the pin.
test('two processes on one host connect and exchange data both ways quickly', async () => {
  const dht = await localDht()
  const topic = randomBytes(32).toString('hex')
  const server = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `import('${SWARM}').then(async ({ createSwarm }) => {
        const swarm = createSwarm({ bootstrap: ['${dht.bootstrap}'] })
        swarm.on('connection', (c) => { c.on('error', () => {}); c.on('data', (d) => c.write('echo:' + d)) })
        await swarm.join(Buffer.from('${topic}', 'hex'), { server: true, client: false }).flushed()
        console.log('ready')
        process.on('SIGTERM', () => swarm.destroy())
      })`
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] }
  )
  try {
    await once(server.stdout, 'data')
    const swarm = createSwarm({ bootstrap: [dht.bootstrap] })
    try {
      const started = performance.now()
      swarm.join(Buffer.from(topic, 'hex'), { server: false, client: true })
      const [conn] = (await once(swarm, 'connection')) as [NodeJS.ReadWriteStream]
      conn.write('ping')
      const [reply] = (await once(conn, 'data')) as [Buffer]
      const ms = performance.now() - started
      assert.equal(reply.toString(), 'echo:ping')
      console.log(`# connect + round trip between processes: ${ms.toFixed(0)} ms`)
      // the stall this guards against is 13–23 s; normal is tens of ms
      assert.ok(ms < 3000, `took ${ms.toFixed(0)} ms`)
    } finally {
      await swarm.destroy()
    }
  } finally {
    server.kill('SIGTERM')
    await once(server, 'exit')
    await dht.stop()
  }
})
