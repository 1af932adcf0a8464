import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { test } from 'node:test'
import { hypership, localDht, start } from '../helpers/cli.js'
import { buildImage, buildLayer, fullNames, ociEntries, writeEntries } from '../helpers/image-builder.js'
import { tmpdir } from '../helpers/tmp.js'

const names = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .flatMap((l) => (JSON.parse(l) as { names: string[] }).names)
    .sort()

test('unshare withdraws one image from a share, then stops the share for good', async () => {
  const dir = await tmpdir()
  const one = buildImage([await buildLayer({ files: { a: randomBytes(100_000) } })], ['docker.io/library/one:1'], 'one')
  const two = buildImage([await buildLayer({ files: { b: randomBytes(100_000) } })], ['docker.io/library/two:1'], 'two')
  await writeEntries(join(dir, 'layout'), ociEntries([one, two], fullNames))
  const dht = await localDht()
  const net = { HYPERSHIP_BOOTSTRAP: dht.bootstrap }
  const store = await tmpdir()
  let daemon = await start(['daemon', '--store', store], net)
  const shared = await hypership(['share', '--store', store, `oci:${join(dir, 'layout')}`], net)
  assert.equal(shared.code, 0, shared.stderr)
  const key = shared.stdout.trim()

  const withdrawn = await hypership(['unshare', '--store', store, key, 'one:1'])
  assert.equal(withdrawn.code, 0, withdrawn.stderr)
  assert.equal(withdrawn.stdout, 'Withdrawn: docker.io/library/one:1\n')
  const receiver = await tmpdir()
  const r = await hypership(['receive', key, '--store', receiver, '--timeout', '20'], net)
  assert.equal(r.code, 0, r.stderr)
  assert.deepEqual(names((await hypership(['ls', '--store', receiver, '--json'])).stdout), ['docker.io/library/two:1'])

  // this store does not own keys it received
  const notOwned = await hypership(['unshare', '--store', receiver, key])
  assert.equal(notOwned.code, 1)
  assert.match(notOwned.stderr, /\[HS_ERR_BAD_KEY\]/)

  const stopped = await hypership(['unshare', '--store', store, key])
  assert.equal(stopped.code, 0, stopped.stderr)
  const status = JSON.parse((await hypership(['status', '--store', store, '--json'])).stdout) as { shares: unknown[] }
  assert.deepEqual(status.shares, [])
  // and it stays stopped across a restart
  assert.equal(await daemon.stop(), 0)
  daemon = await start(['daemon', '--store', store], net)
  const after = JSON.parse((await hypership(['status', '--store', store, '--json'])).stdout) as { shares: unknown[] }
  assert.deepEqual(after.shares, [])
  const late = await hypership(['receive', key, '--store', await tmpdir(), '--timeout', '3'], net)
  assert.equal(late.code, 1)
  assert.match(late.stderr, /\[HS_ERR_NO_PEERS\]/)
  assert.equal(await daemon.stop(), 0)
  await dht.stop()
})
