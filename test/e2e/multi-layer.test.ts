import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { type BuiltImage, buildImage, buildLayer, legacyDockerEntries, tarOf } from '../helpers/image-builder.js'
import { hypership, localDht, start } from '../helpers/cli.js'
import { startDockerd } from '../helpers/dockerd.js'
import { tmpdir } from '../helpers/tmp.js'

interface Summary {
  images: Array<{ id: string; names: string[]; digest: string }>
  blobsFetched: number
  blobsSkipped: number
  bytesReceived: number
}

async function images() {
  // a base layer both images use, with incompressible content so sizes are honest
  const base = await buildLayer({ dirs: ['etc', 'usr', 'usr/share', 'usr/share/man', 'opt'], files: { 'etc/motd': 'hi\n', 'opt/data.bin': randomBytes(3 << 20), 'usr/share/man/a.1': 'man\n' }, compression: 'gzip' })
  const add = await buildLayer({ dirs: ['app'], files: { 'app/run.sh': '#!/bin/sh\necho app\n', 'app/blob': randomBytes(1 << 20) }, symlinks: { 'app/link': 'run.sh' } })
  const del = await buildLayer({ whiteouts: ['etc/motd', 'opt/data.bin'], opaque: ['usr/share/man'], files: { 'usr/share/man/README': 'gone\n' }, compression: 'zstd' })
  const other = await buildLayer({ files: { 'other.txt': randomBytes(200_000) }, compression: 'gzip' })
  const app = buildImage([base, add, del], ['example.com/team/app:1'], 'app')
  const tool = buildImage([base, other], ['example.com/team/tool:1'], 'tool')
  return { app, tool }
}

async function dockerSave(file: string, list: BuiltImage[]) {
  await writeFile(file, await tarOf(await legacyDockerEntries(list.map((image) => ({ image, repoTags: image.names })))))
}

const summaryOf = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as Summary

test('two multi-layer images sharing a layer travel intact; a later image fetches only what is new', async () => {
  const { app, tool } = await images()
  const dir = await tmpdir()
  const appTar = join(dir, 'app.tar')
  const toolTar = join(dir, 'tool.tar')
  await dockerSave(appTar, [app])
  await dockerSave(toolTar, [tool])

  const dht = await localDht()
  const net = { HYPERSHIP_BOOTSTRAP: dht.bootstrap }
  const sharerStore = await tmpdir()
  const receiverStore = await tmpdir()

  const first = await start(['share', '--store', sharerStore, appTar], net)
  const out = join(dir, 'received.tar')
  const r1 = await hypership(['receive', first.firstLine, '--store', receiverStore, '--json', '-o', out, '--timeout', '20'], net)
  assert.equal(r1.code, 0, r1.stderr)
  const s1 = summaryOf(r1.stdout)
  assert.equal(s1.images[0]?.id, app.configDigest)
  // docker save stores layers uncompressed; the manifest is hypership's own
  assert.equal(s1.blobsFetched, 5)
  assert.equal(await first.stop(), 0)

  // the second image shares the base layer: only its own layer, config and manifest travel
  const second = await start(['share', '--store', sharerStore, toolTar], net)
  const r2 = await hypership(['receive', second.firstLine, '--store', receiverStore, '--json', '--timeout', '20'], net)
  assert.equal(r2.code, 0, r2.stderr)
  const s2 = summaryOf(r2.stdout)
  assert.equal(s2.images[0]?.id, tool.configDigest)
  assert.equal(s2.blobsFetched, 3)
  assert.equal(s2.blobsSkipped, 1)
  const baseSize = tool.layers[0]?.tar.length ?? 0
  assert.ok(s2.bytesReceived < baseSize, `fetched ${s2.bytesReceived} bytes, base layer alone is ${baseSize}`)
  assert.equal(await second.stop(), 0)
  await dht.stop()
  const verify = await hypership(['verify', '--store', receiverStore])
  assert.equal(verify.code, 0, verify.stdout + verify.stderr)
  assert.match(verify.stdout, /tool/, 'verify looked at the deduplicated image')

  // both images, all tags, round-trip through a real dockerd with their IDs and diff_ids
  const both = join(dir, 'both.tar')
  const saved = await hypership(['save', '--store', receiverStore, 'example.com/team/app:1', 'example.com/team/tool:1', '-o', both])
  assert.equal(saved.code, 0, saved.stderr)
  const docker = await startDockerd()
  try {
    for (const file of [out, both]) {
      const loaded = await docker.docker(['load', '-i', file])
      assert.equal(loaded.code, 0, loaded.stderr)
    }
    for (const img of [app, tool]) {
      const [info] = JSON.parse((await docker.docker(['image', 'inspect', img.names[0] ?? ''])).stdout) as Array<{ Id: string; RootFS: { Layers: string[] } }>
      assert.equal(info?.Id, img.configDigest)
      assert.deepEqual(info?.RootFS.Layers, img.layers.map((l) => l.diffId))
    }
    // the whiteouts did their work in the image docker assembled
    const created = await docker.docker(['create', 'example.com/team/app:1', '/app/run.sh'])
    assert.equal(created.code, 0, created.stderr)
    const fsTar = join(dir, 'fs.tar')
    const exported = await docker.docker(['export', '-o', fsTar, created.stdout.trim()])
    assert.equal(exported.code, 0, exported.stderr)
    const names = await tarNames(await readFile(fsTar))
    assert.ok(names.includes('app/run.sh'))
    assert.ok(names.includes('usr/share/man/README'))
    assert.ok(!names.includes('etc/motd'), 'whited-out file survived')
    assert.ok(!names.includes('opt/data.bin'), 'whited-out file survived')
    assert.ok(!names.includes('usr/share/man/a.1'), 'opaque directory kept old content')
  } finally {
    await docker.stop()
  }
})

test('load -i of a tampered or truncated archive fails clearly and leaves the store as it was', async () => {
  const { app, tool } = await images()
  const dir = await tmpdir()
  const store = await tmpdir()
  const good = join(dir, 'good.tar')
  await dockerSave(good, [tool])
  assert.equal((await hypership(['load', '--store', store, '-i', good])).code, 0)
  const before = (await hypership(['ls', '--store', store, '--json'])).stdout

  const appTar = join(dir, 'app.tar')
  await dockerSave(appTar, [app])
  const bytes = await readFile(appTar)
  // flip one byte inside the first layer's data (after its 512-byte header)
  const layer = app.layers[0]?.tar ?? Buffer.alloc(0)
  const at = bytes.indexOf(layer.subarray(0, 4096)) + 2048
  assert.ok(at > 2048)
  const tampered = Buffer.from(bytes)
  tampered[at] = (tampered[at] ?? 0) ^ 0xff
  await writeFile(join(dir, 'tampered.tar'), tampered)
  await writeFile(join(dir, 'truncated.tar'), bytes.subarray(0, Math.floor(bytes.length / 2)))

  const t = await hypership(['load', '--store', store, '-i', join(dir, 'tampered.tar')])
  assert.equal(t.code, 1)
  assert.match(t.stderr, /^hypership: .*\[HS_ERR_DIFF_ID_MISMATCH\]\n$/)
  const u = await hypership(['load', '--store', store, '-i', join(dir, 'truncated.tar')])
  assert.equal(u.code, 1)
  assert.match(u.stderr, /\[HS_ERR_BAD_ARCHIVE\]/)
  assert.equal((await hypership(['ls', '--store', store, '--json'])).stdout, before)
})

async function tarNames(tarBytes: Buffer): Promise<string[]> {
  const { default: tar } = await import('tar-stream')
  const extract = tar.extract()
  const names: string[] = []
  extract.on('entry', (header, stream, next) => {
    names.push(header.name.replace(/^\.?\//, ''))
    stream.resume()
    stream.on('end', next)
  })
  const done = new Promise<void>((resolve, reject) => extract.on('finish', () => resolve()).on('error', reject))
  extract.end(tarBytes)
  await done
  return names
}
