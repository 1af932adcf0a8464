import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const run = promisify(execFile)
const BUILD = fileURLToPath(new URL('../../../scripts/build-sample-image.sh', import.meta.url))

/** The built-in sample image, as scripts/build-sample-image.sh wrote it. */
export interface SampleImage {
  /** Folder holding sample.docker.tar and its OCI forms. */
  dir: string
  /** The `docker save`-style archive. */
  tar: string
  /** The digests the script printed, by name: manifest-digest, config-digest, layer-digest, diff-id. */
  digests: Record<string, string>
}

/**
 * Builds the sample image into `dir`. Give it a folder made at a file's top
 * level (`tmpdir()` there lives until the file ends; one made inside a
 * `before` hook is removed when the hook ends).
 */
export async function buildSampleImage(dir: string): Promise<SampleImage> {
  const { stdout } = await run('bash', [BUILD, dir])
  const digests = Object.fromEntries([...stdout.matchAll(/^([\w-]+) (sha256:[a-f0-9]{64})$/gm)].map((m) => [m[1] as string, m[2] as string]))
  return { dir, tar: join(dir, 'sample.docker.tar'), digests }
}
