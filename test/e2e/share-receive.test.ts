import assert from 'node:assert/strict'
import { join } from 'node:path'
import { before, test } from 'node:test'
import { hypership, localDht, start } from '../helpers/cli.js'
import { startDockerd, type Dockerd } from '../helpers/dockerd.js'
import { skopeoInspect } from '../helpers/skopeo.js'
import { buildSampleImage } from '../helpers/sample.js'
import { tmpdir } from '../helpers/tmp.js'

interface Sample {
  dir: string
  manifest: string
  config: string
  diffId: string
}

let sample: Sample
const sampleDir = tmpdir()
before(async () => {
  const built = await buildSampleImage(await sampleDir)
  const d = built.digests
  sample = { dir: built.dir, manifest: d['manifest-digest'] ?? '', config: d['config-digest'] ?? '', diffId: d['diff-id'] ?? '' }
  assert.match(sample.config, /^sha256:/, JSON.stringify(d))
})

test('share in one process, receive in another: same image, verified, loadable by docker', async (t) => {
  const dht = await localDht()
  const net = { HYPERSHIP_BOOTSTRAP: dht.bootstrap }
  const sharerStore = await tmpdir()
  const sharer = await start(['share', '--store', sharerStore, join(sample.dir, 'sample.docker.tar')], net)
  const key = sharer.firstLine.trim()
  assert.match(key, /^[a-z0-9]{52}$/)

  const receiverStore = await tmpdir()
  const out = join(await tmpdir(), 'received.tar')
  // a generous --timeout must not keep a finished receive alive
  const began = Date.now()
  const r = await hypership(['receive', key, '--store', receiverStore, '-o', out, '--json', '--timeout', '90'], net)
  assert.equal(r.code, 0, r.stderr)
  assert.ok(Date.now() - began < 45_000, `receive took ${Date.now() - began} ms to exit`)
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
  const summary = lines.at(-1) as { type: string; images: Array<{ id: string; names: string[]; digest: string }>; bytesReceived: number; peers: string[] }
  assert.equal(summary.type, 'summary')
  assert.equal(summary.images[0]?.id, sample.config)
  assert.deepEqual(summary.images[0]?.names, ['docker.io/hypership/sample:1.0'])
  assert.ok(summary.bytesReceived > 1_000_000, `bytesReceived ${summary.bytesReceived}`)
  assert.equal(summary.peers.length, 1)

  const ls = await hypership(['ls', '--store', receiverStore, '--json'])
  const listed = ls.stdout.trim().split('\n').map((l) => JSON.parse(l) as { id: string; names: string[] })
  assert.deepEqual(listed.map((i) => [i.id, i.names]), [[sample.config, ['docker.io/hypership/sample:1.0']]])

  // skopeo reads what receive -o wrote
  const inspected = await skopeoInspect(`docker-archive:${out}`, ['--config'])
  assert.deepEqual((inspected as { rootfs: { diff_ids: string[] } }).rootfs.diff_ids, [sample.diffId])

  // a real dockerd loads it with the same image ID
  const docker: Dockerd = await startDockerd()
  t.after(() => docker.stop())
  const loaded = await docker.docker(['load', '-i', out])
  assert.equal(loaded.code, 0, loaded.stderr)
  const inspect = JSON.parse((await docker.docker(['image', 'inspect', 'hypership/sample:1.0'])).stdout) as Array<{ Id: string; RootFS: { Layers: string[] } }>
  assert.equal(inspect[0]?.Id, sample.config)
  assert.deepEqual(inspect[0]?.RootFS.Layers, [sample.diffId])

  // what a real `docker save` writes loads back with the same image ID
  const dockerSaved = join(await tmpdir(), 'docker-saved.tar')
  assert.equal((await docker.docker(['save', '-o', dockerSaved, 'hypership/sample:1.0'])).code, 0)
  const reloadStore = await tmpdir()
  const reloaded = await hypership(['load', '--store', reloadStore, '-i', dockerSaved])
  assert.equal(reloaded.code, 0, reloaded.stderr)
  assert.equal(reloaded.stdout, 'Loaded image: hypership/sample:1.0\n')
  const reloadedLs = JSON.parse((await hypership(['ls', '--store', reloadStore, '--json'])).stdout) as { id: string }
  assert.equal(reloadedLs.id, sample.config)

  // --load goes through the Engine API into a fresh store
  await docker.docker(['rmi', 'hypership/sample:1.0'])
  const viaApi = await hypership(['receive', key, '--store', await tmpdir(), '--load', '--timeout', '20'], { ...net, DOCKER_HOST: docker.host })
  assert.equal(viaApi.code, 0, viaApi.stderr)
  const again = JSON.parse((await docker.docker(['image', 'inspect', 'hypership/sample:1.0'])).stdout) as Array<{ Id: string }>
  assert.equal(again[0]?.Id, sample.config)

  // SIGTERM ends the sharer cleanly
  assert.equal(await sharer.stop('SIGTERM'), 0, sharer.stderr())
  await dht.stop()
})

test('receive of a key nobody serves fails after the wait with a clear error', async () => {
  const dht = await localDht()
  const store = await tmpdir()
  const r = await hypership(['receive', 'yryyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy', '--store', store, '--timeout', '2'], {
    HYPERSHIP_BOOTSTRAP: dht.bootstrap
  })
  assert.equal(r.code, 1)
  assert.match(r.stderr, /nobody is sharing .* \[HS_ERR_NO_PEERS\]/)
  const ls = await hypership(['ls', '--store', store, '--json'])
  assert.equal(ls.stdout, '')
  await dht.stop()
})

test('sharing a stored image by name publishes that name only, not its other tags', async () => {
  const dht = await localDht()
  const net = { HYPERSHIP_BOOTSTRAP: dht.bootstrap }
  const store = await tmpdir()
  assert.equal((await hypership(['load', '--store', store, '-i', join(sample.dir, 'sample.docker.tar')])).code, 0)
  assert.equal((await hypership(['tag', '--store', store, 'hypership/sample:1.0', 'registry.internal:5000/secret/app:7'])).code, 0)
  const sharer = await start(['share', '--store', store, 'hypership/sample:1.0'], net)
  const receiver = await tmpdir()
  const r = await hypership(['receive', sharer.firstLine.trim(), '--store', receiver, '--timeout', '20'], net)
  assert.equal(r.code, 0, r.stderr)
  const [listed] = (await hypership(['ls', '--store', receiver, '--json'])).stdout.trim().split('\n').map((l) => JSON.parse(l) as { names: string[] })
  assert.deepEqual(listed?.names, ['docker.io/hypership/sample:1.0'])
  assert.equal(await sharer.stop(), 0)
  await dht.stop()
})
