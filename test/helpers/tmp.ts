import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir as osTmpdir } from 'node:os'
import path from 'node:path'
import { after } from 'node:test'

/**
 * Creates a fresh empty directory under the OS temp dir. It is removed,
 * with everything in it, by a node:test `after` hook: at the end of the
 * test that called this, or of the file when called at top level.
 */
export async function tmpdir(prefix = 'hypership-test-'): Promise<string> {
  const dir = await mkdtemp(path.join(osTmpdir(), prefix))
  after(() => rm(dir, { recursive: true, force: true }))
  return dir
}
