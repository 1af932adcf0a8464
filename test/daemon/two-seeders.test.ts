import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { test } from 'node:test'
import { hypership, localDht, start } from '../helpers/cli.js'
import { buildImage, buildLayer, fullNames, ociEntries, writeEntries } from '../helpers/image-builder.js'
import { tmpdir } from '../helpers/tmp.js'

interface Summary {
  images: Array<{ id: string }>
  bytesReceived: number
  bytesByPeer: Record<string, number>
}

test('two daemons seed one share as separate processes; a receiver takes chunks from both', async () => {
  const image = buildImage([await buildLayer({ files: { 'data.bin': randomBytes(48 << 20) } })], ['docker.io/library/pair:1'])
  const layout = join(await tmpdir(), 'layout')
  await writeEntries(layout, ociEntries([image], fullNames))
  const dht = await localDht()
  const net = { HYPERSHIP_BOOTSTRAP: dht.bootstrap }

  const first = await tmpdir()
  const second = await tmpdir()
  const daemons = [await start(['daemon', '--store', first], net), await start(['daemon', '--store', second], net)]
  const shared = await hypership(['share', '--store', first, `oci:${layout}`], net)
  assert.equal(shared.code, 0, shared.stderr)
  const key = shared.stdout.trim()
  const copied = await hypership(['receive', key, '--store', second, '--timeout', '20'], net)
  assert.equal(copied.code, 0, copied.stderr)

  const receiver = await tmpdir()
  const r = await hypership(['receive', key, '--store', receiver, '--json', '--timeout', '20'], net)
  assert.equal(r.code, 0, r.stderr)
  const summary = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as Summary
  assert.equal(summary.images[0]?.id, image.configDigest)
  const served = Object.values(summary.bytesByPeer)
  assert.equal(served.length, 2, `chunks came from ${JSON.stringify(summary.bytesByPeer)}`)
  for (const n of served) assert.ok(n >= 1 << 20, `a seeder served only ${n} bytes`)
  // chunks from two sources make one sound image
  const verify = await hypership(['verify', '--store', receiver])
  assert.equal(verify.code, 0, verify.stdout + verify.stderr)

  for (const d of daemons) assert.equal(await d.stop(), 0, d.stderr())
  await dht.stop()
})
