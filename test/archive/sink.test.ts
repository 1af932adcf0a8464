import assert from 'node:assert/strict'
import { Readable } from 'node:stream'
import { describe, it } from 'node:test'
import { hasCode } from '../../src/errors.js'
import { buildLayer, sha } from '../helpers/image-builder.js'
import { MemorySink } from '../helpers/memory-sink.js'

describe('InspectingSink', () => {
  it('returns and remembers full PutResults', async () => {
    const sink = new MemorySink()
    const layer = await buildLayer({ files: { a: 'a' }, compression: 'gzip' })
    const put = await sink.put(Readable.from([layer.blob]), 'layer', { digest: layer.digest })
    assert.deepEqual(put, { digest: layer.digest, size: layer.blob.length, compression: 'gzip', diffId: layer.diffId })
    assert.deepEqual(sink.result(layer.digest), put)
    assert.deepEqual(sink.store.blobs.get(layer.digest), layer.blob)
    assert.deepEqual(await sink.readBytes(layer.digest, 1 << 20), layer.blob)
    assert.equal(sink.result(sha('other')), undefined)
  })

  it('passes the store digest check through', async () => {
    const sink = new MemorySink()
    await assert.rejects(
      sink.put(Readable.from([Buffer.from('abc')]), 'blob', { digest: sha('abd') }),
      (err) => hasCode(err, 'HS_ERR_DIGEST_MISMATCH')
    )
    await assert.rejects(
      sink.put(Readable.from([Buffer.from('abc')]), 'blob', { size: 2 }),
      (err) => hasCode(err, 'HS_ERR_SIZE_MISMATCH')
    )
    assert.equal(sink.results().length, 0)
  })
})
