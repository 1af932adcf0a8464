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
const SIZE = Number(process.env.HYPERSHIP_REGISTRY_TEST_MIB ?? 320) * MiB
/** Moved first, so the store's fixed costs (RocksDB memtables, caches) are paid before the measure. */
const WARM_UP = 64 * MiB

async function memory(pid: number): Promise<{ rss: number; hwm: number }> {
  const text = await readFile(`/proc/${pid}/status`, 'utf8')
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1]) * 1024
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') }
}

/** `size` bytes that do not repeat within a block, generated as they are sent. */
function* content(size: number, seed: number): Generator<Buffer> {
  const block = Buffer.alloc(MiB)
  for (let i = 0; i < size / MiB; i++) {
    for (let j = 0; j < MiB; j += 4) block.writeUInt32LE((Math.imul(i + seed, 2654435761) ^ j) >>> 0, j)
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

/** Pushes a blob of `size` bytes, pulls it back hashing as it streams, and checks both ends agree. */
async function moveBlob(base: string, size: number, seed: number): Promise<void> {
  const post = await request(base, 'POST', '/v2/big/blobs/uploads/')
  const loc = new URL(post.headers.location!, base)
  const hash = createHash('sha256')
  assert.equal(await patch(loc, Readable.from(content(size, seed)), hash), 202)
  const digest = `sha256:${hash.digest('hex')}`
  const put = await request(base, 'PUT', `${loc.pathname}?digest=${digest}`)
  assert.equal(put.status, 201, put.body.toString())

  const pulled = await new Promise<{ digest: string; size: number }>((resolve, reject) => {
    http.get(new URL(`/v2/big/blobs/${digest}`, base), { agent: false }, (res) => {
      const h = createHash('sha256')
      let n = 0
      res.on('data', (d: Buffer) => {
        n += d.length
        h.update(d)
      })
      res.on('end', () => resolve({ digest: `sha256:${h.digest('hex')}`, size: n }))
      res.on('error', reject)
    }).on('error', reject)
  })
  assert.deepEqual(pulled, { digest, size })
}

test(`a ${SIZE / MiB} MiB blob is pushed and pulled through the endpoint without the daemon holding it in memory`, async () => {
  const store = await tmpdir()
  const base = await registryDaemon(store, { HYPERSHIP_BOOTSTRAP: '127.0.0.1:1' })
  const st = JSON.parse((await hypership(['status', '--store', store, '--json'])).stdout) as { pid: number }
  const before = await memory(st.pid)
  await moveBlob(base, WARM_UP, 1)
  const warm = await memory(st.pid)
  await moveBlob(base, SIZE, 1000)
  const afterwards = await memory(st.pid)

  // a daemon that held the blob would climb by about its size past the
  // plateau the small one reached; one that streams stays near it
  const growth = afterwards.hwm - warm.hwm
  process.stderr.write(
    `registry memory: rss before ${(before.rss / MiB).toFixed(0)} MiB, peak after ${WARM_UP / MiB} MiB ${(warm.hwm / MiB).toFixed(0)} MiB, ` +
      `after ${SIZE / MiB} MiB ${(afterwards.hwm / MiB).toFixed(0)} MiB\n`
  )
  assert.ok(growth < (SIZE - WARM_UP) / 4, `daemon peak RSS grew by ${(growth / MiB).toFixed(1)} MiB past the warm-up while moving ${SIZE / MiB} MiB`)
})
