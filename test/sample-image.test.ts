import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { after, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'

import { runCommand, startDockerd } from './helpers/dockerd.js'
import { skopeoInspect } from './helpers/skopeo.js'
import { tmpdir } from './helpers/tmp.js'

const NAME = 'hypership/sample:1.0'
const OUTPUTS = ['oci', 'sample.oci.tar', 'sample.docker.tar']

interface Build {
  dir: string
  manifest: string
  config: string
  layer: string
  diffId: string
}

interface InspectOutput {
  Digest: string
  Architecture: string
  Os: string
  Layers: string[]
}

const root = repoRoot()
const first = await build(await tmpdir('hs-sample-a-'))
const second = await build(await tmpdir('hs-sample-b-'))

describe('scripts/build-sample-image.sh', () => {
  test('two builds are byte-identical', async () => {
    for (const name of OUTPUTS) {
      assert.deepEqual(
        await fingerprint(path.join(second.dir, name)),
        await fingerprint(path.join(first.dir, name)),
        `${name} differs between builds`
      )
    }
    assert.deepEqual({ ...second, dir: '' }, { ...first, dir: '' })
  })

  test('the OCI layout is consistent with the printed digests', async () => {
    const oci = path.join(first.dir, 'oci')
    const index = JSON.parse(
      await readFile(path.join(oci, 'index.json'), 'utf8')
    )
    assert.equal(index.manifests.length, 1)
    assert.equal(index.manifests[0].digest, first.manifest)
    assert.deepEqual(index.manifests[0].annotations, {
      'io.containerd.image.name': `docker.io/${NAME}`,
      'org.opencontainers.image.ref.name': '1.0'
    })

    const manifest = JSON.parse(
      await readFile(blobPath(oci, first.manifest), 'utf8')
    )
    assert.equal(manifest.config.digest, first.config)
    assert.deepEqual(
      manifest.layers.map((l: { digest: string }) => l.digest),
      [first.layer]
    )

    // Every blob's name must be the sha256 of its bytes.
    const blobs = await readdir(path.join(oci, 'blobs', 'sha256'))
    assert.equal(blobs.length, 3)
    for (const hex of blobs) {
      const bytes = await readFile(path.join(oci, 'blobs', 'sha256', hex))
      assert.equal(sha256(bytes), hex)
    }
  })

  test('skopeo reads the layout and both archives', async () => {
    const oci = (await skopeoInspect(
      `oci:${first.dir}/oci:1.0`
    )) as InspectOutput
    assert.equal(oci.Digest, first.manifest)
    assert.equal(oci.Architecture, 'amd64')
    assert.equal(oci.Os, 'linux')
    assert.deepEqual(oci.Layers, [first.layer])

    const ociTar = (await skopeoInspect(
      `oci-archive:${first.dir}/sample.oci.tar`
    )) as InspectOutput
    assert.equal(ociTar.Digest, first.manifest)

    // skopeo describes a docker-archive by its uncompressed layers.
    const dockerTar = (await skopeoInspect(
      `docker-archive:${first.dir}/sample.docker.tar`
    )) as InspectOutput
    assert.equal(dockerTar.Architecture, 'amd64')
    assert.deepEqual(dockerTar.Layers, [first.diffId])

    const config = (await skopeoInspect(`oci:${first.dir}/oci:1.0`, [
      '--config'
    ])) as {
      config: { Cmd: string[] }
      rootfs: { diff_ids: string[] }
    }
    assert.deepEqual(config.config.Cmd, ['sh'])
    assert.deepEqual(config.rootfs.diff_ids, [first.diffId])
  })

  test(
    'docker 20.10 loads the docker archive',
    { timeout: 120_000 },
    async () => {
      const dockerd = await startDockerd()
      after(() => dockerd.stop())

      const load = await dockerd.docker([
        'load',
        '-i',
        path.join(first.dir, 'sample.docker.tar')
      ])
      assert.equal(load.code, 0, load.stderr)
      assert.match(load.stdout, /Loaded image: hypership\/sample:1\.0/)

      const res = await dockerd.docker(['image', 'inspect', NAME])
      assert.equal(res.code, 0, res.stderr)
      const [image] = JSON.parse(res.stdout) as Array<{
        Id: string
        RepoTags: string[]
        Architecture: string
        RootFS: { Layers: string[] }
      }>
      assert.ok(image)
      assert.equal(image.Id, first.config)
      assert.deepEqual(image.RepoTags, [NAME])
      assert.equal(image.Architecture, 'amd64')
      assert.deepEqual(image.RootFS.Layers, [first.diffId])
    }
  )
})

/** Runs the build script into `dir` and parses the digests it prints. */
async function build(dir: string): Promise<Build> {
  const script = path.join(root, 'scripts', 'build-sample-image.sh')
  const res = await runCommand('bash', [script, dir], process.env)
  assert.equal(res.code, 0, `build-sample-image.sh failed:\n${res.stderr}`)

  const field = (key: string): string => {
    const m = new RegExp(`^${key} (sha256:[0-9a-f]{64})$`, 'm').exec(res.stdout)
    assert.ok(m?.[1], `no ${key} line in:\n${res.stdout}`)
    return m[1]
  }
  return {
    dir,
    manifest: field('manifest-digest'),
    config: field('config-digest'),
    layer: field('layer-digest'),
    diffId: field('diff-id')
  }
}

/** sha256 of a file, or of every file (by relative path) under a directory. */
async function fingerprint(p: string): Promise<string> {
  const entries = await readdir(p, {
    recursive: true,
    withFileTypes: true
  }).catch(() => null)
  if (!entries) return sha256(await readFile(p))

  const lines: string[] = []
  for (const e of entries) {
    const full = path.join(e.parentPath, e.name)
    const rel = path.relative(p, full)
    lines.push(
      e.isFile() ? `${rel} ${sha256(await readFile(full))}` : `${rel}/`
    )
  }
  return lines.sort().join('\n')
}

function blobPath(layout: string, digest: string): string {
  return path.join(layout, 'blobs', 'sha256', digest.replace(/^sha256:/, ''))
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex')
}

function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url))
  while (!existsSync(path.join(dir, 'scripts', 'build-sample-image.sh'))) {
    const up = path.dirname(dir)
    if (up === dir)
      throw new Error(
        'cannot find the repository root above ' + import.meta.url
      )
    dir = up
  }
  return dir
}
