import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { test } from 'node:test'
import { BIN, hypership, localDht, start } from '../helpers/cli.js'
import { buildImage, buildLayer, ociEntries, fullNames, writeEntries } from '../helpers/image-builder.js'
import { tmpdir } from '../helpers/tmp.js'

const MiB = 1 << 20

test('a receive killed with SIGKILL halfway resumes: the second run fetches about the other half and re-hashes no finished blob', async () => {
  const small = await buildLayer({ files: { 'small.bin': randomBytes(4 * MiB) } })
  const layer = await buildLayer({ files: { 'big.bin': randomBytes(160 * MiB) } })
  const image = buildImage([small, layer], ['docker.io/library/resume:1'])
  const layout = join(await tmpdir(), 'layout')
  await writeEntries(layout, ociEntries([image], fullNames))

  const dht = await localDht()
  const net = { ...process.env, HYPERSHIP_BOOTSTRAP: dht.bootstrap }
  const sharer = await start(['share', '--store', await tmpdir(), `oci:${layout}`], net, 120_000)
  const key = sharer.firstLine.trim()
  const store = await tmpdir()
  const total = layer.blob.length + small.blob.length

  // first run: watch the progress events and kill -9 past the half
  const first = spawn(process.execPath, [BIN, 'receive', key, '--store', store, '--json', '--timeout', '30'], { env: net })
  let seen = 0
  let buf = ''
  const verifiedBefore = new Set<string>()
  first.stdout.setEncoding('utf8').on('data', (d: string) => {
    buf += d
    for (let nl = buf.indexOf('\n'); nl !== -1; nl = buf.indexOf('\n')) {
      const e = JSON.parse(buf.slice(0, nl)) as { type: string; bytes?: number; digest?: string }
      buf = buf.slice(nl + 1)
      if (e.type === 'verified' && seen === 0) verifiedBefore.add(e.digest ?? '')
      if (e.type === 'progress' && (e.bytes ?? 0) > total / 2 && seen === 0) {
        seen = e.bytes ?? 0
        first.kill('SIGKILL')
      }
    }
  })
  const [code, signal] = await new Promise<[number | null, string | null]>((resolve) => first.on('exit', (c, s) => resolve([c, s])))
  assert.equal(signal, 'SIGKILL', `the first receive finished (code ${code}) before it could be killed`)
  assert.ok(seen > total / 2 && seen < total, `killed at ${seen} of ${total} bytes`)
  assert.equal((await hypership(['ls', '--store', store, '--json'])).stdout, '', 'nothing visible after the kill')

  // second run: only what is missing travels
  const second = await hypership(['receive', key, '--store', store, '--json', '--timeout', '30'], net)
  assert.equal(second.code, 0, second.stderr)
  const events = second.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; digest?: string })
  const summary = events.at(-1) as unknown as { bytesReceived: number; bytesHashed: number; blobsSkipped: number; images: Array<{ id: string }> }
  // blobs verified before the kill are in the store already: neither fetched nor hashed again
  assert.ok(verifiedBefore.has(small.digest), 'the small layer was verified before the kill')
  const again = events.filter((e) => e.type === 'verified' && verifiedBefore.has(e.digest ?? '')).map((e) => e.digest)
  assert.deepEqual(again, [], 'no blob verified in the first run is verified again')
  // only the blob in flight at the kill is read back and hashed, from its first byte
  assert.ok(summary.bytesHashed >= layer.blob.length, `hashed ${summary.bytesHashed}, the big layer alone is ${layer.blob.length}`)
  assert.ok(summary.bytesHashed < layer.blob.length + small.blob.length, `hashed ${summary.bytesHashed}: more than the blob in flight`)
  assert.ok(summary.blobsSkipped >= verifiedBefore.size, `${summary.blobsSkipped} blobs skipped, ${verifiedBefore.size} were verified before`)
  assert.equal(summary.images[0]?.id, image.configDigest)
  const missing = total - seen
  console.log(`# killed at ${seen} of ${total} bytes; the second run fetched ${summary.bytesReceived} (${missing} were missing)`)
  // at most what was missing, plus chunks that arrived but were not yet on disk at the kill
  assert.ok(summary.bytesReceived <= missing + 16 * MiB, `fetched ${summary.bytesReceived} again; ${missing} were missing`)
  assert.ok(summary.bytesReceived < total * 0.6, `fetched ${summary.bytesReceived} of ${total}`)
  const verify = await hypership(['verify', '--store', store])
  assert.equal(verify.code, 0, verify.stdout + verify.stderr)
  assert.equal(await sharer.stop(), 0)
  await dht.stop()
})
