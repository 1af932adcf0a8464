import assert from 'node:assert/strict'
import { Readable } from 'node:stream'
import { describe, it } from 'node:test'
import { collectArchive } from '../../src/archive/contents.js'
import { Budget, withDefaults, type ArchiveLimits } from '../../src/archive/limits.js'
import { hasCode } from '../../src/errors.js'
import { sha, tarOf, type RawEntry } from '../helpers/image-builder.js'
import { MemorySink } from '../helpers/memory-sink.js'

async function collect(tarBytes: Buffer, limits: Partial<ArchiveLimits> = {}, sink = new MemorySink()) {
  return collectArchive(Readable.from([tarBytes]), sink, {
    what: 'test.tar',
    budget: new Budget(withDefaults(limits)),
    isMetadata: (p) => p.endsWith('.json')
  })
}

const code = (c: string) => (err: unknown) => hasCode(err, c as 'HS_ERR_BAD_ARCHIVE')

describe('collectArchive', () => {
  it('holds small entries, streams large ones and follows links inside the archive', async () => {
    const big = Buffer.alloc(2 * 1024 * 1024, 1)
    const sink = new MemorySink()
    const contents = await collect(
      await tarOf([
        { name: './', type: 'directory' },
        { name: './big.tar', body: big },
        { name: './v1/', type: 'directory' },
        { name: './v1/layer.tar', type: 'symlink', linkname: '../big.tar' },
        { name: 'hard', type: 'link', linkname: 'small' },
        { name: 'small', body: 'tiny' },
        { name: 'manifest.json', body: '[]' }
      ]),
      {},
      sink
    )
    // Streamed while reading: already in the store before anyone asked.
    assert.equal(sink.store.puts.get(sha(big)), 1)
    assert.equal(sink.store.puts.get(sha('tiny')), undefined)
    assert.equal(contents.resolve('v1/layer.tar'), 'big.tar')
    assert.equal((await contents.put('v1/layer.tar')).digest, sha(big))
    assert.equal((await contents.bytes('hard', 10)).toString(), 'tiny')
    assert.equal((await contents.put('hard')).digest, sha('tiny'))
    assert.equal((await contents.put('small')).digest, sha('tiny'))
    assert.equal(sink.store.puts.get(sha('tiny')), 1)
    assert.equal((await contents.bytes('manifest.json', 10)).toString(), '[]')
    assert.equal(contents.has('nope'), false)
    assert.throws(() => contents.resolve('nope'), code('HS_ERR_BAD_ARCHIVE'))
  })

  const escapes: Array<[string, RawEntry]> = [
    ['a ../ name', { name: '../x', body: 'x' }],
    ['an absolute name', { name: '/abs', body: 'x' }],
    ['a symlink out of the archive', { name: 'v1/layer.tar', type: 'symlink', linkname: '../../etc/passwd' }],
    ['an absolute symlink', { name: 'layer.tar', type: 'symlink', linkname: '/etc/passwd' }],
    ['a hard link out of the archive', { name: 'h', type: 'link', linkname: '../outside' }]
  ]
  for (const [label, entry] of escapes) {
    it(`refuses ${label}`, async () => {
      await assert.rejects(collect(await tarOf([{ name: 'ok', body: '1' }, entry])), code('HS_ERR_BAD_ARCHIVE'))
    })
  }

  it('refuses a truncated archive', async () => {
    const whole = await tarOf([{ name: 'a', body: Buffer.alloc(10_000, 1) }, { name: 'b', body: Buffer.alloc(3 * 1024 * 1024, 2) }])
    for (const cut of [700, 12_000, 2_000_000]) {
      await assert.rejects(collect(whole.subarray(0, cut)), (err) => hasCode(err, 'HS_ERR_BAD_ARCHIVE') && /truncated/.test((err as Error).message))
    }
  })

  it('refuses bytes that are not a tar', async () => {
    await assert.rejects(collect(Buffer.alloc(2048, 0x41)), code('HS_ERR_BAD_ARCHIVE'))
  })

  it('caps the entry count', async () => {
    const entries = Array.from({ length: 11 }, (_, i) => ({ name: `f${i}`, body: 'x' }))
    await assert.rejects(collect(await tarOf(entries), { maxEntries: 10 }), code('HS_ERR_TOO_LARGE'))
    const ok = await collect(await tarOf(entries.slice(0, 10)), { maxEntries: 10 })
    assert.equal(ok.has('f9'), true)
  })

  it('caps each metadata file', async () => {
    const tarBytes = await tarOf([{ name: 'manifest.json', body: Buffer.alloc(2000, 0x20) }])
    await assert.rejects(collect(tarBytes, { maxMetadataFile: 1000 }), code('HS_ERR_TOO_LARGE'))
  })

  it('caps the metadata held in memory in total', async () => {
    const entries = Array.from({ length: 4 }, (_, i) => ({ name: `c${i}.json`, body: Buffer.alloc(400, 0x20) }))
    await assert.rejects(collect(await tarOf(entries), { maxBuffered: 1000 }), code('HS_ERR_TOO_LARGE'))
  })

  it('streams small non-metadata entries once memory is full', async () => {
    const sink = new MemorySink()
    const entries = Array.from({ length: 4 }, (_, i) => ({ name: `blob${i}`, body: Buffer.alloc(400, i) }))
    const contents = await collect(await tarOf(entries), { maxBuffered: 1000 }, sink)
    assert.equal(sink.store.blobs.size, 2) // blob2 and blob3 did not fit
    assert.equal((await contents.bytes('blob3', 1000)).length, 400)
  })
})
