import assert from 'node:assert/strict'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { hypership, localDht } from '../helpers/cli.js'
import { type Dockerd, dockerOk, findExecutable, runCommand, startDockerd } from '../helpers/dockerd.js'
import { errorCode, registryDaemon, request } from '../helpers/registry.js'
import { skopeo } from '../helpers/skopeo.js'
import { buildSampleImage } from '../helpers/sample.js'
import { tmpdir } from '../helpers/tmp.js'


let dockerd: Dockerd
let sampleTar = ''
const sampleDir = tmpdir()
before(async () => {
  sampleTar = (await buildSampleImage(await sampleDir)).tar
  dockerd = await startDockerd()
})
after(() => dockerd?.stop())

const docker = (args: string[]) => dockerOk(dockerd, args)

test('a second daemon given the first one\'s share key serves ALIAS/app:v1 to docker, skopeo and podman, fetched from the peer on demand', async () => {
  const dht = await localDht()
  const net = { HYPERSHIP_BOOTSTRAP: dht.bootstrap }

  // machine 1: docker push into its daemon, then share what was pushed
  const storeA = await tmpdir()
  const baseA = await registryDaemon(storeA, net)
  const hostA = `localhost:${new URL(baseA).port}`
  await docker(['load', '-i', sampleTar])
  const id = await docker(['inspect', '--format', '{{.Id}}', 'hypership/sample:1.0'])
  await docker(['tag', 'hypership/sample:1.0', `${hostA}/app:v1`])
  await docker(['push', `${hostA}/app:v1`])
  const shared = await hypership(['share', '--store', storeA, 'app:v1'], net, 60_000)
  assert.equal(shared.code, 0, shared.stderr)
  const key = shared.stdout.trim()

  // machine 2: its own store and port; one command names the share
  const storeB = await tmpdir()
  const baseB = await registryDaemon(storeB, net, ['--registry-find-timeout', '3'])
  const hostB = `localhost:${new URL(baseB).port}`
  const added = await hypership(['remote', 'add', 'alice', key, '--store', storeB])
  assert.equal(added.code, 0, added.stderr)
  const remotes = await hypership(['remote', 'ls', '--store', storeB, '--json'])
  assert.deepEqual(JSON.parse(remotes.stdout), { alice: key })
  assert.equal((await hypership(['ls', '--store', storeB, '--json'])).stdout.trim(), '')

  await docker(['rmi', `${hostA}/app:v1`, 'hypership/sample:1.0'])
  await docker(['pull', `${hostB}/alice/app:v1`])
  assert.equal(await docker(['inspect', '--format', '{{.Id}}', `${hostB}/alice/app:v1`]), id)
  // stored under the alias, not under the sharer's name
  const ls = JSON.parse((await hypership(['ls', '--store', storeB, '--json'])).stdout.trim()) as { id: string; names: string[] }
  assert.deepEqual(ls.names, ['docker.io/alice/app:v1'])
  assert.equal(ls.id, id)

  // skopeo, into the same dockerd under another name
  const copied = await skopeo(['copy', '--src-tls-verify=false', '--dest-daemon-host', dockerd.host, `docker://${hostB}/alice/app:v1`, 'docker-daemon:viaskopeo/app:v1'])
  assert.equal(copied.code, 0, copied.stderr)
  assert.equal(await docker(['inspect', '--format', '{{.Id}}', 'viaskopeo/app:v1']), id)

  // podman, with its own storage
  const podman = await findExecutable('podman', ['/usr/bin'])
  assert.ok(podman, 'podman is not installed (apt-get install podman, or scripts/test.sh)')
  const pm = await tmpdir()
  await mkdir(join(pm, 'tmp'))
  const env = { ...process.env, TMPDIR: join(pm, 'tmp') }
  const p = ['--root', join(pm, 'root'), '--runroot', join(pm, 'run'), '--storage-driver', 'vfs']
  const pulled = await runCommand(podman, [...p, 'pull', '--tls-verify=false', `${hostB}/alice/app:v1`], env)
  assert.equal(pulled.code, 0, pulled.stderr)
  const pid = await runCommand(podman, [...p, 'image', 'inspect', '--format', '{{.Id}}', `${hostB}/alice/app:v1`], env)
  assert.equal(`sha256:${pid.stdout.trim()}`, id)

  // a tag the share does not have, and a push under an alias, are refused
  const none = await request(baseB, 'GET', '/v2/alice/app/manifests/v9')
  assert.equal(none.status, 404)
  assert.equal(errorCode(none), 'MANIFEST_UNKNOWN')
  assert.equal(errorCode(await request(baseB, 'POST', '/v2/alice/app/blobs/uploads/')), 'DENIED')

  // with machine 1 gone, the tag pulled moments ago is served from the store
  assert.equal((await hypership(['daemon', 'stop', '--store', storeA])).code, 0)
  assert.equal((await request(baseB, 'HEAD', '/v2/alice/app/manifests/v1')).status, 200)
  // and later too, once asking the share found nobody; a tag never pulled is unavailable
  await new Promise((r) => setTimeout(r, 16_000))
  const offline = await request(baseB, 'GET', '/v2/alice/app/manifests/v1')
  assert.equal(offline.status, 200)
  assert.equal(JSON.parse(offline.body.toString()).config.digest, id)
  const never = await request(baseB, 'GET', '/v2/alice/app/manifests/v2')
  assert.equal(never.status, 503)
  assert.equal(errorCode(never), 'UNAVAILABLE')
  await dht.stop()
})
