import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import Corestore from 'corestore'
import Hypercore from 'hypercore'
import { BLOCK_SIZE } from '../../src/store/blob-store.js'
import { BlobWriter, SPILL_PREFIX } from '../../src/store/blob-writer.js'
import { tmpdir } from '../helpers/tmp.js'

function blocksOf(bytes: Buffer): Buffer[] {
  const out: Buffer[] = []
  for (let off = 0; off < bytes.length; off += BLOCK_SIZE) out.push(bytes.subarray(off, off + BLOCK_SIZE))
  return out
}

// sizes that give 1, 2, 3, 5 and 7 blocks: odd counts leave several roots,
// and more than 4 MiB goes through the spill file
for (const size of [1, BLOCK_SIZE, 2 * BLOCK_SIZE + 7, 5 * BLOCK_SIZE - 1, 6 * BLOCK_SIZE + 12345]) {
  test(`a ${size}-byte blob gets the key hypercore itself computes, and its core reads back byte-exact`, async () => {
    const dir = await tmpdir()
    const spill = join(dir, 'tmp')
    const store = new Corestore(join(dir, 'cores'))
    const bytes = randomBytes(size)
    const writer = new BlobWriter(spill)
    try {
      // the reference: an ordinary core appended block by block
      const plain = store.get({ name: 'reference' })
      await plain.ready()
      await plain.append(blocksOf(bytes))

      for (const block of blocksOf(bytes)) await writer.push(block)
      const manifest = writer.manifest()
      assert.deepEqual(manifest.prologue?.hash, await plain.treeHash())
      assert.equal(manifest.prologue?.length, plain.length)
      if (size > 4 << 20) assert.equal((await readdir(spill)).filter((n) => n.startsWith(SPILL_PREFIX)).length, 1)

      const core = store.get({ key: Hypercore.key(manifest), manifest })
      await core.ready()
      await writer.fill(core)
      assert.equal(core.length, plain.length)
      assert.equal(core.contiguousLength, plain.length)
      const back: Buffer[] = []
      for (let i = 0; i < core.length; i++) back.push((await core.get(i, { wait: false })) as Buffer)
      assert.deepEqual(Buffer.concat(back), bytes)
      await core.close()
    } finally {
      await writer.dispose()
      await store.close()
    }
    assert.deepEqual((await readdir(spill).catch(() => [])).filter((n) => n.startsWith(SPILL_PREFIX)), [], 'dispose removes the spill file')
  })
}

test('a core filled by the writer survives a reopen and replicates with valid proofs for every block', async () => {
  const dir = await tmpdir()
  const bytes = randomBytes(3 * BLOCK_SIZE + 1)
  const writer = new BlobWriter(join(dir, 'tmp'))
  for (const block of blocksOf(bytes)) await writer.push(block)
  const manifest = writer.manifest()
  const key = Hypercore.key(manifest)
  let store = new Corestore(join(dir, 'cores'))
  const core = store.get({ key, manifest })
  await core.ready()
  await writer.fill(core)
  await writer.dispose()
  await store.close()

  store = new Corestore(join(dir, 'cores'))
  try {
    const again = store.get({ key })
    await again.ready()
    assert.equal(again.length, 4)
    assert.equal(again.contiguousLength, 4)
    assert.deepEqual(await again.get(3, { wait: false }), bytes.subarray(3 * BLOCK_SIZE))
    assert.deepEqual(await again.get(0, { wait: false }), bytes.subarray(0, BLOCK_SIZE))

    // a peer checks every block against the tree nodes the writer stored
    const peer = new Corestore(join(dir, 'peer'))
    try {
      const a = store.replicate(true)
      const b = peer.replicate(false)
      a.pipe(b).pipe(a)
      const copy = peer.get({ key })
      await copy.ready()
      const got: Buffer[] = []
      for (let i = 0; i < 4; i++) got.push((await copy.get(i, { timeout: 10_000 })) as Buffer)
      assert.deepEqual(Buffer.concat(got), bytes)
      a.destroy()
      b.destroy()
    } finally {
      await peer.close()
    }
  } finally {
    await store.close()
  }
})
