import assert from 'node:assert/strict'
import { Readable } from 'node:stream'
import { describe, it } from 'node:test'
import { gzipSync } from 'node:zlib'
import { sniffCompression } from '../../src/archive/compression.js'
import { LayerInspector } from '../../src/archive/inspector.js'
import { hasCode } from '../../src/errors.js'
import { buildLayer, sha } from '../helpers/image-builder.js'

async function inspect(data: Buffer, chunkSize = 1000, maxDecompressed?: number) {
  const inspector = new LayerInspector('test blob', { maxDecompressed })
  const chunks: Buffer[] = []
  for (let i = 0; i < data.length; i += chunkSize) chunks.push(data.subarray(i, i + chunkSize))
  Readable.from(chunks).pipe(inspector)
  const out: Buffer[] = []
  for await (const chunk of inspector) out.push(chunk as Buffer)
  return { passed: Buffer.concat(out), result: () => inspector.result() }
}

describe('sniffCompression', () => {
  it('recognises gzip, zstd and plain bytes', () => {
    assert.equal(sniffCompression(Buffer.from([0x1f, 0x8b, 0x08, 0x00])), 'gzip')
    assert.equal(sniffCompression(Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x04])), 'zstd')
    assert.equal(sniffCompression(Buffer.from('ustar')), 'none')
    assert.equal(sniffCompression(Buffer.from([0x1f, 0x8b])), 'none')
    assert.equal(sniffCompression(Buffer.alloc(0)), 'none')
  })
})

describe('LayerInspector', () => {
  for (const compression of ['none', 'gzip', 'zstd'] as const) {
    it(`passes ${compression} bytes through and finds the diff_id`, async () => {
      const layer = await buildLayer({ files: { 'etc/motd': 'hello\n', 'bin/x': Buffer.alloc(300_000, 7) }, compression })
      // 3-byte chunks make the sniffer wait for more than one chunk.
      const { passed, result } = await inspect(layer.blob, compression === 'none' ? 4096 : 3)
      assert.deepEqual(passed, layer.blob)
      const r = result()
      assert.equal(r.digest, sha(layer.blob))
      assert.equal(r.size, layer.blob.length)
      assert.equal(r.compression, compression)
      assert.equal(r.diffId, layer.diffId)
      assert.equal(r.uncompressedSize, layer.tar.length)
    })
  }

  it('handles an empty blob', async () => {
    const r = (await inspect(Buffer.alloc(0))).result()
    assert.equal(r.digest, sha(Buffer.alloc(0)))
    assert.equal(r.compression, 'none')
  })

  it('stops a decompression bomb with HS_ERR_TOO_LARGE', async () => {
    const bomb = gzipSync(Buffer.alloc(8 * 1024 * 1024))
    await assert.rejects(inspect(bomb, 1000, 1024 * 1024), (err) => hasCode(err, 'HS_ERR_TOO_LARGE'))
  })

  it('reports corrupt gzip after the stream, with HS_ERR_BAD_ARCHIVE', async () => {
    const blob = gzipSync(Buffer.alloc(100_000, 3))
    const broken = Buffer.from(blob)
    broken.writeUInt8((broken.at(-6) ?? 0) ^ 0xff, broken.length - 6) // inside the CRC32 trailer
    const { passed, result } = await inspect(broken)
    assert.deepEqual(passed, broken)
    assert.throws(result, (err) => hasCode(err, 'HS_ERR_BAD_ARCHIVE'))
  })

  it('ignores bytes after the end of the gzip stream', async () => {
    const plain = Buffer.alloc(50_000, 9)
    const blob = Buffer.concat([gzipSync(plain), Buffer.alloc(5000)])
    const r = (await inspect(blob)).result()
    assert.equal(r.diffId, sha(plain))
    assert.equal(r.digest, sha(blob))
  })
})
