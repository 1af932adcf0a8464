import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { test } from 'node:test'
import { sha256 } from '../../src/image/digest.js'
import { BLOCK_SIZE } from '../../src/store/blob-store.js'
import { Store } from '../../src/store/store.js'
import { syntheticImage } from '../helpers/synthetic.js'
import { tmpdir } from '../helpers/tmp.js'

async function importSynthetic(store: Store, img: ReturnType<typeof syntheticImage>, names: string[]) {
  const tx = await store.beginImport()
  await tx.put(Readable.from([img.layer]), 'layer')
  await tx.put(Readable.from([img.config]), 'config', { digest: img.configDigest })
  return tx.commit([{ names, manifest: img.manifest }])
}

async function readAll(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = []
  for await (const p of stream) parts.push(p as Buffer)
  return Buffer.concat(parts)
}

test('a committed image is visible with its tags and its blobs read back byte-exact', async () => {
  const store = await Store.open(await tmpdir())
  try {
    // not a multiple of the block size, so the last chunk is short
    const img = syntheticImage(randomBytes(BLOCK_SIZE * 2 + 12345))
    const [rec] = await importSynthetic(store, img, ['docker.io/library/app:1'])
    assert.equal(rec?.digest, img.manifestDigest)
    assert.equal(rec?.config, img.configDigest)
    assert.deepEqual((await store.resolve('app:1')).digest, img.manifestDigest)
    assert.deepEqual(await readAll(await store.blobs.open(img.layerDigest)), img.layer)
    const entry = await store.blobs.get(img.layerDigest)
    assert.equal(entry?.blocks, 3)
    assert.equal(entry?.size, img.layer.length)
  } finally {
    await store.close()
  }
})

test('the same bytes give the same core key in two independent stores', async () => {
  const layer = randomBytes(BLOCK_SIZE + 7)
  const a = await Store.open(await tmpdir())
  const b = await Store.open(await tmpdir())
  try {
    await importSynthetic(a, syntheticImage(layer), ['a:1'])
    await importSynthetic(b, syntheticImage(layer), ['b:1'])
    const ka = (await a.blobs.get(sha256(layer)))?.key
    const kb = (await b.blobs.get(sha256(layer)))?.key
    assert.match(ka ?? '', /^[a-f0-9]{64}$/)
    assert.equal(ka, kb)
  } finally {
    await a.close()
    await b.close()
  }
})

test('an aborted import leaves nothing visible', async () => {
  const dir = await tmpdir()
  const store = await Store.open(dir)
  try {
    const img = syntheticImage(randomBytes(5000))
    const tx = await store.beginImport()
    await tx.put(Readable.from([img.layer]), 'layer')
    await tx.abort()
    assert.equal(await store.blobs.get(img.layerDigest), undefined)
    assert.deepEqual(await store.images(), [])
    assert.deepEqual(await readdir(join(dir, 'journal')), [])
  } finally {
    await store.close()
  }
})

test('a digest mismatch fails the put and the import', async () => {
  const store = await Store.open(await tmpdir())
  try {
    const tx = await store.beginImport()
    await assert.rejects(tx.put(Readable.from([Buffer.from('hello')]), 'x', { digest: sha256('other') }), { code: 'HS_ERR_DIGEST_MISMATCH' })
    await assert.rejects(tx.put(Readable.from([Buffer.from('hello')]), 'y', { size: 3 }), { code: 'HS_ERR_SIZE_MISMATCH' })
    await tx.abort()
    assert.deepEqual(await store.blobs.list(), [])
  } finally {
    await store.close()
  }
})

test('a commit whose manifest names a missing blob fails and shows nothing', async () => {
  const store = await Store.open(await tmpdir())
  try {
    const img = syntheticImage(randomBytes(100))
    const tx = await store.beginImport()
    await tx.put(Readable.from([img.config]), 'config')
    await assert.rejects(tx.commit([{ names: ['x:1'], manifest: img.manifest }]), { code: 'HS_ERR_BAD_ARCHIVE' })
    await tx.abort()
    assert.deepEqual(await store.images(), [])
  } finally {
    await store.close()
  }
})

test('tag moves a name, rm untags then deletes and drops unused blobs', async () => {
  const store = await Store.open(await tmpdir())
  try {
    const one = syntheticImage(randomBytes(300))
    const two = syntheticImage(randomBytes(400))
    await importSynthetic(store, one, ['docker.io/library/app:1'])
    await importSynthetic(store, two, ['docker.io/library/app:2'])
    await store.tag('app:2', 'app:latest')
    assert.deepEqual((await store.resolve('app')).digest, two.manifestDigest)
    await store.tag('app:1', 'app:latest')
    assert.deepEqual((await store.resolve('app')).digest, one.manifestDigest)
    assert.deepEqual((await store.resolve(two.manifestDigest)).tags, ['docker.io/library/app:2'])

    const first = await store.remove('app:1')
    assert.deepEqual(first, { untagged: ['docker.io/library/app:1'] })
    const second = await store.remove('app:latest')
    assert.equal(second.deleted, one.manifestDigest)
    assert.equal(await store.blobs.get(one.layerDigest), undefined)
    assert.ok(await store.blobs.get(two.layerDigest))
    await assert.rejects(store.resolve('app:1'), { code: 'HS_ERR_IMAGE_NOT_FOUND' })
  } finally {
    await store.close()
  }
})

test('a second process cannot open the blobs of a store in use, but can read refs', async () => {
  const dir = await tmpdir()
  const store = await Store.open(dir)
  try {
    await importSynthetic(store, syntheticImage(randomBytes(10)), ['x:1'])
    // corestore's lock is per process; a child process is the honest test
    const { spawnSync } = await import('node:child_process')
    const script = `import('${new URL('../../src/store/store.js', import.meta.url).href}').then(async ({ Store }) => {
      try { await Store.open(${JSON.stringify(dir)}); console.log('opened') } catch (e) { console.log(e.code) }
      const s = await Store.open(${JSON.stringify(dir)}, { blobs: false }); console.log((await s.images()).length)
    })`
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })
    assert.deepEqual(r.stdout.trim().split('\n'), ['HS_ERR_STORE_BUSY', '1'])
  } finally {
    await store.close()
  }
})
