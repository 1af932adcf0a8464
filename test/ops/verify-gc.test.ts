import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { test } from 'node:test'
import { collectGarbage } from '../../src/ops/gc.js'
import { verifyImages } from '../../src/ops/verify.js'
import { BLOCK_SIZE } from '../../src/store/blob-store.js'
import { Store } from '../../src/store/store.js'
import { syntheticImage } from '../helpers/synthetic.js'
import { tmpdir } from '../helpers/tmp.js'

async function withImage(dir: string, layer: Buffer, name: string) {
  const store = await Store.open(dir)
  const img = syntheticImage(layer)
  const tx = await store.beginImport()
  await tx.put(Readable.from([img.layer]), 'layer')
  await tx.put(Readable.from([img.config]), 'config')
  await tx.commit([{ names: [name], manifest: img.manifest }])
  return { store, img }
}

async function countCores(store: Store): Promise<number> {
  let n = 0
  for await (const _ of store.blobs.cores.list()) n++
  return n
}

test('verify passes on a sound store and names the blob whose chunks were damaged on disk', async () => {
  const dir = await tmpdir()
  const layer = randomBytes(4 * BLOCK_SIZE)
  let { store, img } = await withImage(dir, layer, 'docker.io/library/ok:1')
  assert.deepEqual((await verifyImages(store)).map((r) => [r.digest, r.ok, r.problems]), [[img.manifestDigest, true, []]])
  await store.close()

  // flip one byte of the layer wherever RocksDB keeps it (blob file or log)
  const dbDir = join(dir, 'cores', 'db')
  const needle = layer.subarray(2 * BLOCK_SIZE + 100, 2 * BLOCK_SIZE + 4196)
  let flipped = 0
  for (const name of await readdir(dbDir)) {
    const file = join(dbDir, name)
    const bytes = await readFile(file).catch(() => undefined)
    if (!bytes) continue
    // every copy RocksDB may keep (log and blob file)
    let hits = 0
    for (let at = bytes.indexOf(needle); at !== -1; at = bytes.indexOf(needle, at + 1)) {
      bytes[at + 10] = (bytes[at + 10] ?? 0) ^ 0x01
      hits++
    }
    if (hits === 0) continue
    await writeFile(file, bytes)
    flipped += hits
  }
  assert.ok(flipped > 0, 'the layer bytes were found on disk')

  store = await Store.open(dir)
  try {
    const [report] = await verifyImages(store)
    assert.equal(report?.ok, false)
    assert.match(report?.problems.join('\n') ?? '', new RegExp(`blob ${img.layerDigest}: .*\\[HS_ERR_`))
  } catch (err) {
    // RocksDB may refuse the damaged file outright; that is detection too
    assert.match(String((err as Error).message), /corrupt|checksum|mismatch/i)
  } finally {
    await store.close()
  }
})

test('gc drops blobs no image uses and purges their cores, keeping what images need', async () => {
  const dir = await tmpdir()
  const { store, img } = await withImage(dir, randomBytes(BLOCK_SIZE + 10), 'docker.io/library/keep:1')
  try {
    const other = syntheticImage(randomBytes(2 * BLOCK_SIZE))
    const tx = await store.beginImport()
    await tx.put(Readable.from([other.layer]), 'layer')
    await tx.put(Readable.from([other.config]), 'config')
    await tx.commit([{ names: ['docker.io/library/gone:1'], manifest: other.manifest }])
    // forget the image the way a ref-only removal does, leaving its blobs behind
    await store.db.update((images) => void delete images[other.manifestDigest])
    const before = await countCores(store)

    const report = await collectGarbage(store)
    assert.deepEqual(report, { blobs: 3, cores: 3 })
    assert.equal(await countCores(store), before - 3)
    assert.equal(await store.blobs.get(other.layerDigest), undefined)
    assert.deepEqual((await verifyImages(store)).map((r) => [r.digest, r.ok]), [[img.manifestDigest, true]])
    assert.deepEqual(await collectGarbage(store), { blobs: 0, cores: 0 })
  } finally {
    await store.close()
  }
})
