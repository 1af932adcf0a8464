import assert from 'node:assert/strict'
import { Readable, Writable } from 'node:stream'
import { test } from 'node:test'
import { TarWriter } from '../../src/archive/tar-write.js'

test('once the output fails (a reader went away), later entries fail with the output\'s error, not tar-stream\'s', async () => {
  const epipe = () => Object.assign(new Error('write EPIPE'), { code: 'EPIPE' })
  const output = new Writable({ write: (_chunk, _enc, done) => done(epipe()) })
  const writer = new TarWriter(output)
  await writer.bytes('first', Buffer.alloc(10)).catch(() => undefined)
  await new Promise((resolve) => setTimeout(resolve, 50))
  await assert.rejects(writer.bytes('second', Buffer.alloc(10)), { code: 'EPIPE' })
  await assert.rejects(writer.directory('dir'), { code: 'EPIPE' })
  await assert.rejects(writer.stream('third', 3, Readable.from([Buffer.from('abc')])), { code: 'EPIPE' })
  await assert.rejects(writer.finish(), { code: 'EPIPE' })
})
