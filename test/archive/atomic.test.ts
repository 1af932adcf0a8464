import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { createReadStream } from 'node:fs'
import { lstat, mkdir, readdir, readFile, readlink, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import test from 'node:test'
import { writeAtomically } from '../../src/archive/atomic.js'
import { tmpdir } from '../helpers/tmp.js'

const write = (text: string) => async (tmp: string) => writeFile(tmp, text)

test('a file is replaced whole, and a failed write leaves the old one and no temporary file', async () => {
  const dir = await tmpdir()
  const file = join(dir, 'out.tar')
  await writeFile(file, 'old')
  await assert.rejects(writeAtomically(file, 'file', async (tmp) => {
    await writeFile(tmp, 'half')
    throw new Error('cut off')
  }))
  assert.equal(await readFile(file, 'utf8'), 'old')
  assert.deepEqual(await readdir(dir), ['out.tar'])
  await writeAtomically(file, 'file', write('new'))
  assert.equal(await readFile(file, 'utf8'), 'new')
})

test('through a symlink the link stays and its target is written, also a target that does not exist yet', async () => {
  const dir = await tmpdir()
  await writeFile(join(dir, 'target'), 'old')
  await symlink('target', join(dir, 'link'))
  await symlink('sub/missing', join(dir, 'dangling'))
  await mkdir(join(dir, 'sub'))
  await writeAtomically(join(dir, 'link'), 'file', write('via link'))
  await writeAtomically(join(dir, 'dangling'), 'file', write('via dangling'))
  assert.ok((await lstat(join(dir, 'link'))).isSymbolicLink())
  assert.equal(await readlink(join(dir, 'link')), 'target')
  assert.equal(await readFile(join(dir, 'target'), 'utf8'), 'via link')
  assert.ok((await lstat(join(dir, 'dangling'))).isSymbolicLink())
  assert.equal(await readFile(join(dir, 'sub', 'missing'), 'utf8'), 'via dangling')
})

test('a device or a FIFO is written through, never replaced by a file', async () => {
  const dir = await tmpdir()
  const dev = join(dir, 'null')
  execFileSync('mknod', ['-m', '666', dev, 'c', '1', '3'])
  await writeAtomically(dev, 'file', write('into the void'))
  assert.ok((await lstat(dev)).isCharacterDevice())

  const fifo = join(dir, 'fifo')
  execFileSync('mkfifo', [fifo])
  const read = (async () => {
    const parts: Buffer[] = []
    for await (const part of createReadStream(fifo)) parts.push(part as Buffer)
    return Buffer.concat(parts).toString()
  })()
  await writeAtomically(fifo, 'file', write('through the pipe'))
  assert.equal(await read, 'through the pipe')
  assert.ok((await lstat(fifo)).isFIFO())
  assert.deepEqual((await readdir(dir)).sort(), ['fifo', 'null'])
})

test('a directory is not a file target', async () => {
  const dir = await tmpdir()
  await assert.rejects(writeAtomically(dir, 'file', write('x')), { code: 'HS_ERR_IO', message: /is a directory/ })
})
