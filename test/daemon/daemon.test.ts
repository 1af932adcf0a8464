import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { chown, stat } from 'node:fs/promises'
import net_ from 'node:net'
import { once } from 'node:events'
import { tmpdir as osTmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { Readable } from 'node:stream'
import { before, test } from 'node:test'
import { hypership, localDht, start } from '../helpers/cli.js'
import { daemonSocketPath } from '../../src/daemon/socket-path.js'
import { Store } from '../../src/store/store.js'
import { buildSampleImage } from '../helpers/sample.js'
import { syntheticImage } from '../helpers/synthetic.js'
import { tmpdir } from '../helpers/tmp.js'

let sampleTar = ''
const sampleDir = tmpdir()
before(async () => {
  sampleTar = (await buildSampleImage(await sampleDir)).tar
})

interface Status {
  pid: number
  socket: string
  shares: Array<{ key: string; owned: boolean; blobs: number; images: Array<{ names: string[] }> }>
  uploadedBytes: number
}

async function status(store: string): Promise<Status> {
  const r = await hypership(['status', '--store', store, '--json'])
  assert.equal(r.code, 0, r.stderr)
  return JSON.parse(r.stdout) as Status
}

test('the daemon keeps seeding after the sharing CLI exits and after a restart; receivers re-seed', async () => {
  const dht = await localDht()
  const net = { HYPERSHIP_BOOTSTRAP: dht.bootstrap }
  const sharerStore = await tmpdir()

  // no daemon yet: status says so
  const none = await hypership(['status', '--store', sharerStore])
  assert.equal(none.code, 1)
  assert.match(none.stderr, /\[HS_ERR_NO_DAEMON\]/)

  let daemon = await start(['daemon', '--store', sharerStore], net)
  const socket = daemon.firstLine.trim()
  assert.equal((await stat(socket)).mode & 0o777, 0o600)

  // share hands the image to the daemon and returns at once
  const shared = await hypership(['share', '--store', sharerStore, sampleTar], net, 60_000)
  assert.equal(shared.code, 0, shared.stderr)
  const key = shared.stdout.trim()
  assert.match(key, /^[a-z0-9]{52}$/)
  const st = await status(sharerStore)
  assert.deepEqual(st.shares.map((s) => [s.key, s.owned, s.blobs]), [[key, true, 3]])

  const first = await hypership(['receive', key, '--store', await tmpdir(), '--json', '--timeout', '20'], net)
  assert.equal(first.code, 0, first.stderr)
  assert.ok((await status(sharerStore)).uploadedBytes > 1_000_000)

  // restart: the share is seeded again without anyone asking
  assert.equal((await hypership(['daemon', 'stop', '--store', sharerStore])).code, 0)
  assert.equal(await daemon.wait(), 0, daemon.stderr())
  daemon = await start(['daemon', '--store', sharerStore], net)
  const again = await hypership(['receive', key, '--store', await tmpdir(), '--timeout', '20'], net)
  assert.equal(again.code, 0, again.stderr)

  // a receiver with a daemon receives through it and keeps seeding what it got
  const receiverStore = await tmpdir()
  const receiverDaemon = await start(['daemon', '--store', receiverStore], net)
  const viaDaemon = await hypership(['receive', key, '--store', receiverStore, '--json', '--timeout', '20'], net)
  assert.equal(viaDaemon.code, 0, viaDaemon.stderr)
  assert.deepEqual((await status(receiverStore)).shares.map((s) => [s.key, s.owned, s.blobs]), [[key, false, 3]])
  // ls works beside a running daemon; save goes through it
  const ls = await hypership(['ls', '--store', receiverStore, '--json'])
  assert.equal(JSON.parse(ls.stdout.trim()).names[0], 'docker.io/hypership/sample:1.0')
  const out = join(await tmpdir(), 'x.tar')
  const saved = await hypership(['save', '--store', receiverStore, 'hypership/sample:1.0', '-o', out])
  assert.equal(saved.code, 0, saved.stderr)
  assert.ok((await stat(out)).size > 1_000_000)

  // with the original sharer gone, a newcomer still gets the image from the receiver
  assert.equal(await daemon.stop('SIGTERM'), 0, daemon.stderr())
  const fromReceiver = await hypership(['receive', key, '--store', await tmpdir(), '--json', '--timeout', '20'], net)
  assert.equal(fromReceiver.code, 0, fromReceiver.stderr)
  assert.equal(await receiverDaemon.stop('SIGTERM'), 0, receiverDaemon.stderr())
  await dht.stop()
})

test('two daemons already connected through one share pass a second share over that connection, blobs and all', async () => {
  const dht = await localDht()
  const net = { HYPERSHIP_BOOTSTRAP: dht.bootstrap }
  const sharerStore = await tmpdir()
  const receiverStore = await tmpdir()
  // a second image with blobs of its own, stored before the daemon takes the store
  const second = syntheticImage(randomBytes(3 * 1024 * 1024))
  const store = await Store.open(sharerStore)
  const tx = await store.beginImport()
  await tx.put(Readable.from([second.layer]), 'layer')
  await tx.put(Readable.from([second.config]), 'config')
  await tx.commit([{ names: ['docker.io/library/second:1'], manifest: second.manifest }])
  await store.close()

  await start(['daemon', '--store', sharerStore], net)
  await start(['daemon', '--store', receiverStore], net)
  const one = await hypership(['share', '--store', sharerStore, sampleTar], net)
  assert.equal(one.code, 0, one.stderr)
  const first = await hypership(['receive', one.stdout.trim(), '--store', receiverStore, '--timeout', '20'], net)
  assert.equal(first.code, 0, first.stderr)

  // the daemons stay connected; the new share's cores were opened before
  // either side granted them and must be offered again on that connection
  const two = await hypership(['share', '--store', sharerStore, 'second:1'], net)
  assert.equal(two.code, 0, two.stderr)
  const r = await hypership(['receive', two.stdout.trim(), '--store', receiverStore, '--json', '--timeout', '20'], net)
  assert.equal(r.code, 0, r.stderr)
  const summary = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as { images: Array<{ id: string }>; bytesReceived: number; blobsFetched: number }
  assert.equal(summary.images[0]?.id, second.configDigest)
  assert.equal(summary.blobsFetched, 3)
  assert.ok(summary.bytesReceived >= second.layer.length, `received ${summary.bytesReceived} bytes`)
})

test('a store whose socket path is too long gets one in an owner-only temp directory; a socket another user made there is refused', async () => {
  const deep = join(await tmpdir(), 'x'.repeat(60), 'y'.repeat(40))
  const net = { HYPERSHIP_BOOTSTRAP: '127.0.0.1:1' }
  const socketPath = daemonSocketPath(deep)
  assert.equal(dirname(socketPath), join(osTmpdir(), `hypership-${process.getuid!()}`))

  const daemon = await start(['daemon', '--store', deep, '--no-lan'], net)
  assert.equal(daemon.firstLine.trim(), socketPath)
  const dir = await stat(dirname(socketPath))
  assert.equal(dir.mode & 0o777, 0o700)
  assert.equal(dir.uid, process.getuid!())
  assert.equal((await hypership(['status', '--store', deep], net)).code, 0)
  assert.equal((await hypership(['daemon', 'stop', '--store', deep], net)).code, 0)
  assert.equal(await daemon.wait(), 0, daemon.stderr())

  // someone else's socket at that name: the CLI neither connects nor takes it for a daemon
  const fake = net_.createServer().listen(socketPath)
  await once(fake, 'listening')
  await chown(socketPath, 65534, 65534)
  try {
    const r = await hypership(['status', '--store', deep], net)
    assert.equal(r.code, 1)
    assert.match(r.stderr, /refusing .*not a socket of yours.*\[HS_ERR_IO\]/)
  } finally {
    fake.close()
  }
})
