import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import http from 'node:http'
import { Readable } from 'node:stream'
import { test } from 'node:test'
import { hypership } from '../helpers/cli.js'
import { registryDaemon, request } from '../helpers/registry.js'
import { tmpdir } from '../helpers/tmp.js'

const MiB = 1024 * 1024
const SIZE = Number(process.env.HYPERSHIP_REGISTRY_TEST_MIB ?? 256) * MiB

async function memory(pid: number): Promise<{ rss: number; hwm: number }> {
  const text = await readFile(`/proc/${pid}/status`, 'utf8')
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1]) * 1024
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') }
}

/** SIZE bytes that do not repeat within a block, generated as they are sent. */
function* content(): Generator<Buffer> {
  const block = Buffer.alloc(MiB)
  for (let i = 0; i < SIZE / MiB; i++) {
    for (let j = 0; j < MiB; j += 4) block.writeUInt32LE((Math.imul(i + 1, 2654435761) ^ j) >>> 0, j)
    yield Buffer.from(block)
  }
}

function patch(url: URL, body: Readable, hash: ReturnType<typeof createHash>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'PATCH', headers: { 'Content-Type': 'application/octet-stream' }, agent: false }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
    req.on('error', reject)
    body.on('data', (d: Buffer) => hash.update(d))
    body.pipe(req)
  })
}

test(`a ${SIZE / MiB} MiB blob is pushed and pulled through the endpoint without the daemon holding it in memory`, async () => {
  const store = await tmpdir()
  const base = await registryDaemon(store, { HYPERSHIP_BOOTSTRAP: '127.0.0.1:1' })
  const st = JSON.parse((await hypership(['status', '--store', store, '--json'])).stdout) as { pid: number }
  const before = await memory(st.pid)

  const post = await request(base, 'POST', '/v2/big/blobs/uploads/')
  const loc = new URL(post.headers.location!, base)
  const hash = createHash('sha256')
  assert.equal(await patch(loc, Readable.from(content()), hash), 202)
  const digest = `sha256:${hash.digest('hex')}`
  const put = await request(base, 'PUT', `${loc.pathname}?digest=${digest}`)
  assert.equal(put.status, 201, put.body.toString())

  // pull it back, hashing as it streams
  const pulled = await new Promise<{ digest: string; size: number }>((resolve, reject) => {
    http.get(new URL(`/v2/big/blobs/${digest}`, base), { agent: false }, (res) => {
      const h = createHash('sha256')
      let size = 0
      res.on('data', (d: Buffer) => {
        size += d.length
        h.update(d)
      })
      res.on('end', () => resolve({ digest: `sha256:${h.digest('hex')}`, size }))
      res.on('error', reject)
    }).on('error', reject)
  })
  assert.deepEqual(pulled, { digest, size: SIZE })

  const afterwards = await memory(st.pid)
  const growth = afterwards.hwm - before.rss
  // reported so a run shows the figure; the limit is a fraction of the blob
  process.stderr.write(`registry memory: rss before ${(before.rss / MiB).toFixed(0)} MiB, peak ${(afterwards.hwm / MiB).toFixed(0)} MiB, growth ${(growth / MiB).toFixed(0)} MiB for ${SIZE / MiB} MiB\n`)
  assert.ok(growth < Math.min(SIZE / 2, 160 * MiB), `daemon RSS grew by ${growth / MiB} MiB while moving ${SIZE / MiB} MiB`)
})
