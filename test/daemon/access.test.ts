import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { hypership, localDht, start } from '../helpers/cli.js'
import { buildImage, buildLayer, fullNames, ociEntries, writeEntries } from '../helpers/image-builder.js'
import { tmpdir } from '../helpers/tmp.js'

/** Blob index entries in a store (0 when nothing was ever stored). */
async function blobCount(store: string): Promise<number> {
  return (await readdir(join(store, 'blobs', 'sha256')).catch(() => [])).length
}

test('separate processes: a daemon shares with --allow, rotates, and the CLI sees who gets what', async () => {
  const dir = await tmpdir()
  const img = buildImage([await buildLayer({ files: { a: randomBytes(300_000) } })], ['docker.io/library/private:1'], 'private')
  await writeEntries(join(dir, 'layout'), ociEntries([img], fullNames))
  const dht = await localDht()
  const net = { HYPERSHIP_BOOTSTRAP: dht.bootstrap }
  const store = await tmpdir()
  const friend = await tmpdir()
  const stranger = await tmpdir()
  const friendId = (await hypership(['id', '--store', friend])).stdout.trim()
  assert.match(friendId, /^[a-z0-9]{52}$/)

  const daemon = await start(['daemon', '--store', store], net)
  const daemonId = (await hypership(['id', '--store', store])).stdout.trim()
  const shared = await hypership(['share', '--store', store, '--json', '--allow', friendId, `oci:${join(dir, 'layout')}`], net)
  assert.equal(shared.code, 0, shared.stderr)
  const { key, allow } = JSON.parse(shared.stdout) as { key: string; allow: string[] }
  assert.deepEqual(allow, [daemonId, friendId])

  const refused = await hypership(['receive', key, '--store', stranger, '--timeout', '5'], net)
  assert.equal(refused.code, 1)
  assert.match(refused.stderr, /no peer served .*\[HS_ERR_NO_PEERS\]/)
  assert.equal(await blobCount(stranger), 0)

  const got = await hypership(['receive', key, '--store', friend, '--timeout', '20'], net)
  assert.equal(got.code, 0, got.stderr)
  assert.match((await hypership(['ls', '--store', friend])).stdout, /private/)

  const status = JSON.parse((await hypership(['status', '--store', store, '--json'])).stdout) as { id: string; shares: Array<{ key: string; allow: string[] }> }
  assert.equal(status.id, daemonId)
  assert.deepEqual(status.shares.map((s) => [s.key, s.allow]), [[key, [daemonId, friendId]]])

  const rotated = await hypership(['share', '--store', store, '--rotate', key, '--json'], net)
  assert.equal(rotated.code, 0, rotated.stderr)
  const next = JSON.parse(rotated.stdout) as { key: string; replaced: string; allow: string[] }
  assert.equal(next.replaced, key)
  assert.deepEqual(next.allow, [daemonId, friendId])
  // the old key: only the friend's store holds it now, and no daemon runs there
  const old = await hypership(['receive', key, '--store', await tmpdir(), '--timeout', '4'], net)
  assert.equal(old.code, 1)
  assert.match(old.stderr, /\[HS_ERR_NO_PEERS\]/)
  const friendAgain = await hypership(['receive', next.key, '--store', friend, '--timeout', '20', '--json'], net)
  assert.equal(friendAgain.code, 0, friendAgain.stderr)

  const bad = await hypership(['share', '--store', store, '--add', next.key, '--allow', 'not-an-id'], net)
  assert.equal(bad.code, 1)
  assert.match(bad.stderr, /\[HS_ERR_BAD_KEY\]/)
  const none = await hypership(['share', '--store', store], net)
  assert.equal(none.code, 2)
  assert.match(none.stderr, /\[HS_ERR_BAD_REFERENCE\]/)

  assert.equal(await daemon.stop(), 0)
  await dht.stop()
})
