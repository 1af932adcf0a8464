import assert from 'node:assert/strict'
import http from 'node:http'
import { readFile } from 'node:fs/promises'
import net from 'node:net'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { hasCode } from '../../src/errors.js'
import { loadImages, saveImages, storedImages } from '../../src/ops/images.js'
import { Store } from '../../src/store/store.js'
import { DockerDaemonDestination } from '../../src/transports/docker-daemon/destination.js'
import { dockerHost, Engine, parseDockerHost } from '../../src/transports/docker-daemon/engine.js'
import { openDestination, parseLocation } from '../../src/transports/location.js'
import { hypership, localDht, start } from '../helpers/cli.js'
import { type Dockerd, startDockerd } from '../helpers/dockerd.js'
import { buildImage, toWrite } from '../helpers/image-builder.js'
import { MemoryStore } from '../helpers/memory-sink.js'
import { tmpdir } from '../helpers/tmp.js'
import { fixture, type Fixture } from './fixtures.js'

interface Inspected {
  Id: string
  RepoTags: string[]
  RootFS: { Layers: string[] }
}

async function inspect(dockerd: Dockerd, name: string): Promise<Inspected> {
  const res = await dockerd.docker(['image', 'inspect', name])
  assert.equal(res.code, 0, res.stderr)
  const [info] = JSON.parse(res.stdout) as Inspected[]
  assert.ok(info)
  return info
}

/** A store holding the fixture's app image as `hs-test/app:1`, from a docker-archive. */
async function storeWithApp(fx: Fixture): Promise<Store> {
  const memory = new MemoryStore()
  const archive = join(await tmpdir(), 'app.tar')
  await (await openDestination(`docker-archive:${archive}`)).write([toWrite(memory, fx.app, ['docker.io/hs-test/app:1'])], memory)
  const store = await Store.open(await tmpdir())
  after(() => store.close())
  await loadImages(store, archive)
  return store
}

/** The config's diff_ids of a stored image. */
async function storedDiffIds(store: Store, name: string): Promise<string[]> {
  const rec = await store.resolve(name)
  const config = JSON.parse((await store.blobs.readBytes(rec.config, 1 << 20)).toString()) as { rootfs: { diff_ids: string[] } }
  return config.rootfs.diff_ids
}

/** A TCP port on 127.0.0.1 that forwards every connection to a unix socket: an engine on tcp://. */
async function tcpToUnix(socketPath: string): Promise<{ host: string; close(): Promise<void> }> {
  const server = net.createServer((client) => {
    const upstream = net.connect(socketPath)
    client.pipe(upstream).pipe(client)
    client.on('error', () => upstream.destroy())
    upstream.on('error', () => client.destroy())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as net.AddressInfo
  return { host: `tcp://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) }
}

/** A tcp:// address where nothing listens. */
async function deadTcpHost(): Promise<string> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as net.AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return `tcp://127.0.0.1:${port}`
}

describe('Docker hosts', () => {
  it('parses DOCKER_HOST the way docker does', () => {
    assert.deepEqual(parseDockerHost('unix:///run/x.sock', {}), { socketPath: '/run/x.sock' })
    assert.deepEqual(parseDockerHost('/run/x.sock', {}), { socketPath: '/run/x.sock' })
    assert.deepEqual(parseDockerHost('tcp://127.0.0.1:2376', {}), { host: '127.0.0.1', port: 2376 })
    assert.deepEqual(parseDockerHost('tcp://localhost', {}), { host: 'localhost', port: 2375 })
    assert.equal(dockerHost(undefined, {}), 'unix:///var/run/docker.sock')
    assert.equal(dockerHost(undefined, { DOCKER_HOST: 'tcp://127.0.0.1:1' }), 'tcp://127.0.0.1:1')
    assert.equal(dockerHost('unix:///flag.sock', { DOCKER_HOST: 'tcp://127.0.0.1:1' }), 'unix:///flag.sock')
  })

  it('refuses hosts it cannot speak to with a code', () => {
    assert.throws(() => parseDockerHost('ssh://me@box', {}), (err) => hasCode(err, 'HS_ERR_UNSUPPORTED'))
    assert.throws(() => parseDockerHost('tcp://127.0.0.1:2376', { DOCKER_TLS_VERIFY: '1' }), (err) => hasCode(err, 'HS_ERR_UNSUPPORTED'))
    assert.throws(() => parseDockerHost('unix://relative.sock', {}), (err) => hasCode(err, 'HS_ERR_BAD_REFERENCE'))
    assert.throws(() => parseDockerHost('box:2375', {}), (err) => hasCode(err, 'HS_ERR_BAD_REFERENCE'))
  })

  it('parses docker-daemon: locations like skopeo', async () => {
    const id = `sha256:${'ab'.repeat(32)}`
    assert.deepEqual(await parseLocation('docker-daemon:app:v1'), { kind: 'docker-daemon', reference: { name: 'docker.io/library/app:v1' }, text: 'app:v1' })
    assert.deepEqual(await parseLocation('docker-daemon:busybox'), { kind: 'docker-daemon', reference: { name: 'docker.io/library/busybox:latest' }, text: 'busybox' })
    assert.deepEqual(await parseLocation(`docker-daemon:${id}`), { kind: 'docker-daemon', reference: { id }, text: id })
    assert.deepEqual(await parseLocation('docker-daemon:'), { kind: 'docker-daemon', text: '' })
    for (const bad of [`docker-daemon:app@${id}`, 'docker-daemon:sha256:abc', 'docker-daemon:Bad:1']) {
      await assert.rejects(parseLocation(bad), (err) => hasCode(err, 'HS_ERR_BAD_REFERENCE'), bad)
    }
    await assert.rejects(openDestination(`docker-daemon:${id}`), (err) => hasCode(err, 'HS_ERR_BAD_REFERENCE'))
  })
})

describe('docker-daemon: against a private dockerd', async () => {
  const dockerd = await startDockerd()
  after(() => dockerd.stop())
  const fx = await fixture('gzip')
  const store = await storeWithApp(fx)

  it('store → docker-daemon: → store keeps the image ID and the diff_ids', async () => {
    const engine = { dockerHost: dockerd.host }
    await saveImages(store, ['hs-test/app:1'], 'docker-daemon:hs-test/rt:1', engine)
    const info = await inspect(dockerd, 'hs-test/rt:1')
    assert.equal(info.Id, fx.app.configDigest)
    assert.deepEqual(info.RootFS.Layers, fx.app.layers.map((l) => l.diffId))

    const back = await Store.open(await tmpdir())
    after(() => back.close())
    const [rec] = await loadImages(back, 'docker-daemon:hs-test/rt:1', engine)
    assert.equal(rec?.config, fx.app.configDigest)
    assert.deepEqual(rec?.tags, ['docker.io/hs-test/rt:1'])
    assert.deepEqual(await storedDiffIds(back, 'hs-test/rt:1'), fx.app.layers.map((l) => l.diffId))

    // by image ID: the same image, untagged
    const byId = await Store.open(await tmpdir())
    after(() => byId.close())
    const [untagged] = await loadImages(byId, `docker-daemon:${fx.app.configDigest}`, engine)
    assert.equal(untagged?.config, fx.app.configDigest)
    assert.deepEqual(untagged?.tags, [])
  })

  it('bare docker-daemon: keeps the images own names; tcp:// engines work too', async () => {
    const tcp = await tcpToUnix(dockerd.socketPath)
    after(() => tcp.close())
    await saveImages(store, ['hs-test/app:1'], 'docker-daemon:', { dockerHost: tcp.host })
    assert.equal((await inspect(dockerd, 'hs-test/app:1')).Id, fx.app.configDigest)

    const back = await Store.open(await tmpdir())
    after(() => back.close())
    const [rec] = await loadImages(back, 'docker-daemon:hs-test/app:1', { dockerHost: tcp.host })
    assert.equal(rec?.config, fx.app.configDigest)
  })

  it('a name missing from the store is shared from Docker', async () => {
    const res = await dockerd.docker(['tag', fx.app.configDigest, 'hs-test/only-in-docker:2'])
    assert.equal(res.code, 0, res.stderr)
    const empty = await Store.open(await tmpdir())
    after(() => empty.close())
    const [rec] = await storedImages(empty, 'hs-test/only-in-docker:2', { dockerHost: dockerd.host })
    assert.equal(rec?.config, fx.app.configDigest)
    assert.deepEqual(rec?.tags, ['docker.io/hs-test/only-in-docker:2'])
    // it is in the store now, under that name
    assert.equal((await empty.resolve('hs-test/only-in-docker:2')).config, fx.app.configDigest)
    // and a short image ID works the same way, untagged
    const [byId] = await storedImages(empty, fx.app.configDigest.slice(7, 19), { dockerHost: dockerd.host })
    assert.equal(byId?.config, fx.app.configDigest)
    assert.deepEqual(byId?.tags, [])
  })

  it('an image in neither place says where it looked', async () => {
    const empty = await Store.open(await tmpdir())
    after(() => empty.close())
    await assert.rejects(storedImages(empty, 'hs-test/nowhere:1', { dockerHost: dockerd.host }), (err) => {
      assert.ok(hasCode(err, 'HS_ERR_IMAGE_NOT_FOUND'))
      assert.match((err as Error).message, /no image hs-test\/nowhere:1 in the hypership store \(.+\), nor in the Docker Engine at unix:\/\/.*docker\.sock/)
      return true
    })
    const dead = `unix:///tmp/hs-no-engine-${process.pid}.sock`
    await assert.rejects(storedImages(empty, 'hs-test/nowhere:1', { dockerHost: dead }), (err) => {
      assert.ok(hasCode(err, 'HS_ERR_IMAGE_NOT_FOUND'))
      assert.match((err as Error).message, new RegExp(`and no Docker Engine answers at ${dead}`))
      return true
    })
  })

  it('engine errors carry codes and plain words', async () => {
    const empty = await Store.open(await tmpdir())
    after(() => empty.close())
    await assert.rejects(loadImages(empty, 'docker-daemon:hs-test/nope:1', { dockerHost: dockerd.host }), (err) => {
      assert.ok(hasCode(err, 'HS_ERR_IMAGE_NOT_FOUND'), String(err))
      assert.match((err as Error).message, /the Docker Engine at unix:\/\/.* has no image hs-test\/nope:1/)
      return true
    })
    const dead = `unix:///tmp/hs-no-engine-${process.pid}.sock`
    await assert.rejects(loadImages(empty, 'docker-daemon:hs-test/app:1', { dockerHost: dead }), (err) => {
      assert.ok(hasCode(err, 'HS_ERR_NO_ENGINE'), String(err))
      assert.match((err as Error).message, new RegExp(`no Docker Engine answers at ${dead} \\(no socket there\\)`))
      return true
    })
    const refused = await deadTcpHost()
    await assert.rejects(saveImages(store, ['hs-test/app:1'], 'docker-daemon:x/y:1', { dockerHost: refused }), (err) => {
      assert.ok(hasCode(err, 'HS_ERR_NO_ENGINE'), String(err))
      assert.match((err as Error).message, /connection refused/)
      return true
    })
    assert.equal(await new Engine(refused).ping(), false)
    assert.equal(await new Engine(dockerd.host).ping(), true)
    // nothing was imported by the failures
    assert.deepEqual(await empty.images(), [])
  })

  it('a load the engine rejects fails with the engine error', async () => {
    // the config promises a diff_id the layer does not have: dockerd refuses it after reading the upload
    const liar = buildImage([fx.base], [], 'liar')
    const config = JSON.parse(liar.config.toString()) as { rootfs: { diff_ids: string[] } }
    config.rootfs.diff_ids = [`sha256:${'0'.repeat(64)}`]
    const forged = buildImage([fx.base], [], 'liar')
    const bytes = Buffer.from(JSON.stringify(config))
    const memory = new MemoryStore()
    const image = toWrite(memory, forged, ['docker.io/hs-test/liar:1'])
    const configDigest = memory.add(bytes)
    image.manifest = { ...image.manifest, config: { ...image.manifest.config, digest: configDigest, size: bytes.length } }
    const dest = new DockerDaemonDestination(new Engine(dockerd.host))
    await assert.rejects(dest.write([image], memory), (err) => {
      assert.ok(hasCode(err, 'HS_ERR_DOCKER'), String(err))
      assert.match((err as Error).message, /the Docker Engine at unix:\/\/.* failed to load the image: .*(diff|layer)/i)
      return true
    })
    assert.notEqual((await dockerd.docker(['image', 'inspect', 'hs-test/liar:1'])).code, 0)
  })

  it('a blob that fails its check mid-upload loads nothing', async () => {
    const memory = new MemoryStore()
    const image = toWrite(memory, fx.app, ['docker.io/hs-test/cut:1'])
    const top = fx.app.layers[1]
    assert.ok(top)
    const broken = {
      open: async (digest: string) => {
        const stream = await memory.open(digest)
        if (digest !== top.digest) return stream
        const { Readable } = await import('node:stream')
        return Readable.from(
          (async function* () {
            yield top.blob.subarray(0, 10)
            throw Object.assign(new Error(`${digest}: bytes do not match`), { code: 'HS_ERR_DIGEST_MISMATCH' })
          })()
        )
      },
      readBytes: (digest: string, max: number) => memory.readBytes(digest, max)
    }
    await assert.rejects(new DockerDaemonDestination(new Engine(dockerd.host)).write([image], broken), /bytes do not match/)
    assert.notEqual((await dockerd.docker(['image', 'inspect', 'hs-test/cut:1'])).code, 0)
  })

  it('the CLI honours DOCKER_HOST and --docker-host, and prints engine errors in one line', async () => {
    const dir = await tmpdir()
    const load = await hypership(['load', '--store', dir, '-i', 'docker-daemon:hs-test/rt:1'], { DOCKER_HOST: dockerd.host })
    assert.equal(load.code, 0, load.stderr)
    assert.match(load.stdout, /Loaded image: hs-test\/rt:1/)
    const save = await hypership(['save', '--store', dir, 'hs-test/rt:1', '-o', 'docker-daemon:hs-test/cli:3', '--docker-host', dockerd.host], {
      DOCKER_HOST: 'unix:///nonexistent.sock'
    })
    assert.equal(save.code, 0, save.stderr)
    assert.equal((await inspect(dockerd, 'hs-test/cli:3')).Id, fx.app.configDigest)
    // skopeo's order: SOURCE DEST, no -o
    const copy = await hypership(['save', '--store', dir, 'hs-test/rt:1', 'docker-daemon:hs-test/cli:4'], { DOCKER_HOST: dockerd.host })
    assert.equal(copy.code, 0, copy.stderr)
    assert.equal((await inspect(dockerd, 'hs-test/cli:4')).Id, fx.app.configDigest)
    const nowhere = await hypership(['save', '--store', dir, 'hs-test/rt:1'])
    assert.equal(nowhere.code, 2)
    assert.match(nowhere.stderr, /say where to save.*\[HS_ERR_BAD_REFERENCE\]/)
    const bareFile = await hypership(['save', '--store', dir, 'hs-test/rt:1', 'out.tar'])
    assert.equal(bareFile.code, 2)
    assert.match(bareFile.stderr, /say -o out\.tar/)
    const stdout = await hypership(['save', '--store', dir, 'hs-test/rt:1', '-o', '-'])
    assert.equal(stdout.code, 2)
    assert.match(stdout.stderr, /standard output is not supported.*\[HS_ERR_BAD_REFERENCE\]/)

    const dead = await hypership(['load', '--store', dir, '-i', 'docker-daemon:hs-test/rt:1'], { DOCKER_HOST: 'unix:///nonexistent.sock' })
    assert.equal(dead.code, 1)
    assert.match(dead.stderr, /no Docker Engine answers at unix:\/\/\/nonexistent\.sock \(no socket there\).*\[HS_ERR_NO_ENGINE\]/)
    assert.equal(dead.stderr.trim().split('\n').length, 1, dead.stderr)
  })

  it('share NAME:TAG takes an image only Docker has; receive --load puts it back', async () => {
    const dht = await localDht()
    after(() => dht.stop())
    const env = { HYPERSHIP_BOOTSTRAP: dht.bootstrap, DOCKER_HOST: dockerd.host }
    assert.equal((await dockerd.docker(['tag', fx.app.configDigest, 'hs-test/shared:5'])).code, 0)
    const sharer = await start(['share', '--store', await tmpdir(), 'hs-test/shared:5'], env)
    after(() => sharer.stop())
    const key = sharer.firstLine.trim()
    assert.match(key, /^[a-z0-9]{52}$/)
    assert.equal((await dockerd.docker(['rmi', 'hs-test/shared:5'])).code, 0)

    const received = await hypership(['receive', key, '--store', await tmpdir(), '--load', '--timeout', '20'], env)
    assert.equal(received.code, 0, received.stderr)
    assert.match(received.stderr, /Docker: Loaded image: hs-test\/shared:5/)
    assert.equal((await inspect(dockerd, 'hs-test/shared:5')).Id, fx.app.configDigest)

    const missing = await hypership(['share', '--store', await tmpdir(), 'hs-test/nowhere:1'], env)
    assert.equal(missing.code, 1)
    assert.match(missing.stderr, /no image hs-test\/nowhere:1 in the hypership store \(.+\), nor in the Docker Engine at unix:.*\[HS_ERR_IMAGE_NOT_FOUND\]/)
  })

  it('through a running hypership daemon, the CLI\'s Docker host is used, not the daemon\'s', async () => {
    const dir = await tmpdir()
    const daemon = await start(['daemon', '--store', dir, '--bootstrap', '127.0.0.1:1'], { DOCKER_HOST: 'unix:///nonexistent-daemon.sock' })
    after(() => daemon.stop())
    const load = await hypership(['load', '--store', dir, '-i', 'docker-daemon:hs-test/app:1'], { DOCKER_HOST: dockerd.host })
    assert.equal(load.code, 0, load.stderr)
    const save = await hypership(['save', '--store', dir, 'hs-test/app:1', '-o', 'docker-daemon:hs-test/via-daemon:1'], { DOCKER_HOST: dockerd.host })
    assert.equal(save.code, 0, save.stderr)
    assert.equal((await inspect(dockerd, 'hs-test/via-daemon:1')).Id, fx.app.configDigest)
    assert.equal((await hypership(['daemon', 'stop', '--store', dir])).code, 0)
  })
})

// An engine that misbehaves on purpose (a real HTTP server on a unix socket):
// what it says must reach the user, and nothing half-read may be stored.
describe('a misbehaving engine', async () => {
  const fx = await fixture('none')
  const memory = new MemoryStore()
  const archive = join(await tmpdir(), 'whole.tar')
  await (await openDestination(`docker-archive:${archive}`)).write([toWrite(memory, fx.app, ['docker.io/x/cut:1'])], memory)
  const whole = await readFile(archive)
  const socketPath = join(await tmpdir(), 'bad-engine.sock')
  const server = http.createServer((req, res) => {
    const url = req.url ?? ''
    if (url.startsWith('/images/load')) {
      req.resume()
      req.on('end', () => {
        res.writeHead(200, { 'Content-Type': 'application/json' })
        res.end('{"stream":"Loading layer"}\nnot json at all\n{"errorDetail":{"message":"disk quota exceeded"},"error":"disk quota exceeded"}\n')
      })
      return
    }
    if (url.includes('/json')) {
      res.writeHead(200, { 'Content-Type': 'application/json' })
      res.end(JSON.stringify({ Id: fx.app.configDigest, RepoTags: ['x/y:1'], Size: 1000 }))
      return
    }
    if (url.includes('names=x%2Fboom')) {
      res.writeHead(500, { 'Content-Type': 'application/json' })
      res.end('{"message":"boom: the engine fell over"}')
      return
    }
    // a good archive, cut off halfway
    res.writeHead(200, { 'Content-Type': 'application/x-tar' })
    res.write(whole.subarray(0, whole.length >> 1))
    setTimeout(() => res.destroy(), 50)
  })
  await new Promise<void>((resolve) => server.listen(socketPath, resolve))
  after(() => new Promise<void>((resolve) => server.close(() => resolve())))
  const dockerHost = `unix://${socketPath}`

  it('an API error is HS_ERR_DOCKER with its message', async () => {
    const store = await Store.open(await tmpdir())
    after(() => store.close())
    await assert.rejects(loadImages(store, 'docker-daemon:x/boom:1', { dockerHost }), (err) => {
      assert.ok(hasCode(err, 'HS_ERR_DOCKER'), String(err))
      assert.match((err as Error).message, /refused saving x\/boom:1: HTTP 500: boom: the engine fell over/)
      return true
    })
    assert.deepEqual(await store.images(), [])
  })

  it('a stream cut short stores nothing', async () => {
    const store = await Store.open(await tmpdir())
    after(() => store.close())
    await assert.rejects(loadImages(store, 'docker-daemon:x/cut:1', { dockerHost }), (err) => {
      assert.ok(hasCode(err, 'HS_ERR_DOCKER'), String(err))
      assert.match((err as Error).message, /the Docker Engine at unix:.* broke off sending x\/cut:1/)
      return true
    })
    assert.deepEqual(await store.images(), [])
  })

  it('errors in a 200 load stream are errors, in the engine words', async () => {
    const dest = new DockerDaemonDestination(new Engine(dockerHost))
    await assert.rejects(dest.write([toWrite(memory, fx.app, ['docker.io/x/y:1'])], memory), (err) => {
      assert.ok(hasCode(err, 'HS_ERR_DOCKER'), String(err))
      assert.match((err as Error).message, /failed to load the image: not json at all; disk quota exceeded/)
      return true
    })
  })
})
