import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { test } from 'node:test'
import { buildImage, buildLayer, fullNames, ociEntries, writeEntries } from '../helpers/image-builder.js'
import { hypership } from '../helpers/cli.js'
import { tmpdir } from '../helpers/tmp.js'

// A small filesystem of our own (needs root, like the dockerd tests),
// unmounted before the temp dir holding it is removed.
async function withSmallDisk(mib: number, fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await tmpdir()
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${mib}m`, 'tmpfs', dir])
  try {
    await fn(dir)
  } finally {
    execFileSync('umount', [dir])
  }
}

test('a load that cannot fit is refused up front with a clear error and the store stays usable', () =>
  withSmallDisk(96, async (disk) => {
    const store = join(disk, 'store')
    const dir = await tmpdir()
    const small = buildImage([await buildLayer({ files: { a: randomBytes(1 << 20) } })], ['docker.io/library/small:1'])
    const big = buildImage([await buildLayer({ files: { b: randomBytes(40 << 20) } })], ['docker.io/library/big:1'])
    await writeEntries(join(dir, 'small'), ociEntries([small], fullNames))
    await writeEntries(join(dir, 'big'), ociEntries([big], fullNames))

    assert.equal((await hypership(['load', '--store', store, '-i', `oci:${join(dir, 'small')}`])).code, 0)
    const before = (await hypership(['ls', '--store', store, '--json'])).stdout

    const r = await hypership(['load', '--store', store, '-i', `oci:${join(dir, 'big')}`])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /^hypership: not enough disk space for importing .* MiB are free .*\[HS_ERR_DISK_FULL\]\n$/)
    assert.equal((await hypership(['ls', '--store', store, '--json'])).stdout, before)
    const verify = await hypership(['verify', '--store', store])
    assert.equal(verify.code, 0, verify.stdout + verify.stderr)
  }))
