import assert from 'node:assert/strict'
import { mkdir, symlink } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { daemonSocketPath } from '../../src/daemon/socket-path.js'
import { tmpdir } from '../helpers/tmp.js'

test('every spelling of one store finds the same daemon socket, short or long, existing or not yet', async () => {
  const base = await tmpdir()
  const short = join(base, 's')
  const long = join(base, 'x'.repeat(60), 'y'.repeat(40))
  await mkdir(short)
  await mkdir(long, { recursive: true })
  await symlink(short, join(base, 'link-to-short'))
  await symlink(long, join(base, 'link-to-long'))
  await symlink(short, join(base, 'z'.repeat(110)))

  assert.equal(daemonSocketPath(join(base, 'link-to-short')), join(short, 'daemon.sock'))
  assert.equal(daemonSocketPath(join(base, 'z'.repeat(110))), join(short, 'daemon.sock'))
  assert.equal(daemonSocketPath(join(base, 'link-to-long')), daemonSocketPath(long))
  assert.notEqual(daemonSocketPath(long), join(long, 'daemon.sock'))
  // a store not created yet, under a symlinked parent
  assert.equal(daemonSocketPath(join(base, 'link-to-short', 'new')), join(short, 'new', 'daemon.sock'))
})
