import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { readFile, readdir, writeFile } from 'node:fs/promises'
import http from 'node:http'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { after, before, describe, test } from 'node:test'
import { sha256 } from '../../src/image/digest.js'
import { hypership } from '../helpers/cli.js'
import { errorCode, registryDaemon as daemonOn, request } from '../helpers/registry.js'
import { type Dockerd, dockerOk, startDockerd } from '../helpers/dockerd.js'
import { skopeo } from '../helpers/skopeo.js'
import { syntheticImage } from '../helpers/synthetic.js'
import { buildSampleImage } from '../helpers/sample.js'
import { tmpdir } from '../helpers/tmp.js'

// nothing networked is used, but a daemon must never reach for the public DHT
const NET = { HYPERSHIP_BOOTSTRAP: '127.0.0.1:1' }

let dockerd: Dockerd
let sampleTar = ''
const sampleDir = tmpdir()
before(async () => {
  sampleTar = (await buildSampleImage(await sampleDir)).tar
  dockerd = await startDockerd()
})
after(() => dockerd?.stop())

const docker = (args: string[]) => dockerOk(dockerd, args)

const registryDaemon = (store: string, extra: string[] = []) => daemonOn(store, NET, extra)

describe('registry endpoint', () => {
  test('docker push stores the image; docker pull gets it back with the same ID; plain HTTP sees the API', async () => {
    const store = await tmpdir()
    const base = await registryDaemon(store)
    const host = `localhost:${new URL(base).port}`

    await docker(['load', '-i', sampleTar])
    const id = await docker(['inspect', '--format', '{{.Id}}', 'hypership/sample:1.0'])
    await docker(['tag', 'hypership/sample:1.0', `${host}/app:v1`])
    await docker(['push', `${host}/app:v1`])

    // in the store under the name docker gave it, without the registry host
    const ls = await hypership(['ls', '--store', store, '--json'])
    const images = ls.stdout.trim().split('\n').map((l) => JSON.parse(l) as { id: string; names: string[]; digest: string })
    const pushed = images.find((i) => i.names.includes('docker.io/library/app:v1'))
    assert.ok(pushed, ls.stdout)
    assert.equal(pushed.id, id)
    const verify = await hypership(['verify', '--store', store])
    assert.equal(verify.code, 0, verify.stderr)

    await docker(['rmi', `${host}/app:v1`, 'hypership/sample:1.0'])
    await docker(['pull', `${host}/app:v1`])
    assert.equal(await docker(['inspect', '--format', '{{.Id}}', `${host}/app:v1`]), id)

    // API details over plain HTTP
    const v2 = await request(base, 'GET', '/v2/')
    assert.equal(v2.status, 200)
    assert.equal(v2.headers['docker-distribution-api-version'], 'registry/2.0')
    assert.deepEqual(JSON.parse((await request(base, 'GET', '/v2/_catalog')).body.toString()), { repositories: ['app'] })
    assert.deepEqual(JSON.parse((await request(base, 'GET', '/v2/app/tags/list')).body.toString()), { name: 'app', tags: ['v1'] })
    assert.equal(errorCode(await request(base, 'GET', '/v2/nothing/tags/list')), 'NAME_UNKNOWN')

    const man = await request(base, 'GET', '/v2/app/manifests/v1')
    assert.equal(man.status, 200)
    assert.equal(man.headers['docker-content-digest'], pushed.digest)
    assert.equal(sha256(man.body), pushed.digest)
    const manifest = JSON.parse(man.body.toString()) as { mediaType: string; config: { digest: string }; layers: Array<{ digest: string; size: number }> }
    assert.equal(man.headers['content-type'], manifest.mediaType)
    assert.equal(manifest.config.digest, id)
    const byDigest = await request(base, 'HEAD', `/v2/app/manifests/${pushed.digest}`)
    assert.equal(byDigest.status, 200)
    assert.equal(byDigest.headers['content-length'], String(man.body.length))
    const missing = await request(base, 'GET', '/v2/app/manifests/v2')
    assert.equal(missing.status, 404)
    assert.equal(errorCode(missing), 'MANIFEST_UNKNOWN')

    const layer = manifest.layers[0]!
    const head = await request(base, 'HEAD', `/v2/app/blobs/${layer.digest}`)
    assert.equal(head.status, 200)
    assert.equal(head.headers['content-length'], String(layer.size))
    assert.equal(head.headers['docker-content-digest'], layer.digest)
    const whole = await request(base, 'GET', `/v2/app/blobs/${layer.digest}`)
    assert.equal(sha256(whole.body), layer.digest)
    // a range across the first 1 MiB block boundary, and a suffix range
    const part = await request(base, 'GET', `/v2/app/blobs/${layer.digest}`, undefined, { Range: 'bytes=1048000-1048999' })
    assert.equal(part.status, 206)
    assert.equal(part.headers['content-range'], `bytes 1048000-1048999/${layer.size}`)
    assert.deepEqual(part.body, whole.body.subarray(1048000, 1049000))
    const tail = await request(base, 'GET', `/v2/app/blobs/${layer.digest}`, undefined, { Range: 'bytes=-10' })
    assert.deepEqual(tail.body, whole.body.subarray(whole.body.length - 10))
    assert.equal((await request(base, 'GET', `/v2/app/blobs/${layer.digest}`, undefined, { Range: `bytes=${layer.size}-` })).status, 416)
    const noBlob = await request(base, 'GET', `/v2/app/blobs/sha256:${'0'.repeat(64)}`)
    assert.equal(noBlob.status, 404)
    assert.equal(errorCode(noBlob), 'BLOB_UNKNOWN')
    assert.equal(errorCode(await request(base, 'GET', '/v2/Bad_Name/manifests/v1')), 'NAME_INVALID')

    // cross-mount of a blob the store holds
    const mount = await request(base, 'POST', `/v2/other/blobs/uploads/?mount=${layer.digest}&from=app`)
    assert.equal(mount.status, 201)
    assert.equal(mount.headers['docker-content-digest'], layer.digest)
  })

  test('chunked and monolithic uploads, refused digests and manifests naming missing blobs', async () => {
    const store = await tmpdir()
    const base = await registryDaemon(store)
    const img = syntheticImage(Buffer.alloc(3 * 1024 * 1024 + 17, 7))

    // chunked: POST, two PATCHes with Content-Range, PUT with the digest
    const post = await request(base, 'POST', '/v2/team/tool/blobs/uploads/')
    assert.equal(post.status, 202)
    const loc = post.headers.location!
    const half = 2 * 1024 * 1024
    const p1 = await request(base, 'PATCH', loc, img.layer.subarray(0, half), { 'Content-Range': `0-${half - 1}`, 'Content-Type': 'application/octet-stream' })
    assert.equal(p1.status, 202)
    assert.equal(p1.headers.range, `0-${half - 1}`)
    // a chunk that does not start where the upload is
    const wrong = await request(base, 'PATCH', loc, Buffer.from('xx'), { 'Content-Range': '5-6' })
    assert.equal(wrong.status, 416)
    assert.equal((await request(base, 'PATCH', loc, Buffer.from('xx'), { 'Content-Range': 'garbage' })).status, 400)
    // a range that says more bytes than the body has
    assert.equal((await request(base, 'PATCH', loc, Buffer.from('xx'), { 'Content-Range': `${half}-${half + 9}` })).status, 400)
    const status = await request(base, 'GET', loc)
    assert.equal(status.status, 204)
    assert.equal(status.headers.range, `0-${half - 1}`)
    const p2 = await request(base, 'PATCH', loc, img.layer.subarray(half), { 'Content-Range': `${half}-${img.layer.length - 1}` })
    assert.equal(p2.status, 202)
    const put = await request(base, 'PUT', `${loc}?digest=${img.layerDigest}`)
    assert.equal(put.status, 201, put.body.toString())
    assert.equal(put.headers['docker-content-digest'], img.layerDigest)
    assert.equal((await request(base, 'HEAD', `/v2/team/tool/blobs/${img.layerDigest}`)).headers['content-length'], String(img.layer.length))
    assert.equal((await request(base, 'GET', loc)).status, 404)

    assert.equal(errorCode(await request(base, 'GET', '/v2/%E0%A4%A/manifests/x')), 'NAME_INVALID')
    assert.equal(errorCode(await request(base, 'GET', '/v2/team/tool/manifests/bad%tag')), 'NAME_INVALID')
    assert.equal((await request(base, 'DELETE', '/v2/team/tool/manifests/1')).status, 405)

    // a manifest whose config was never pushed is refused, and nothing is tagged
    const early = await request(base, 'PUT', '/v2/team/tool/manifests/1', img.manifest, { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' })
    assert.equal(early.status, 400)
    assert.equal(errorCode(early), 'MANIFEST_BLOB_UNKNOWN')

    // monolithic with a wrong digest: refused, not stored
    const bad = await request(base, 'POST', `/v2/team/tool/blobs/uploads/?digest=${sha256('something else')}`, img.config)
    assert.equal(bad.status, 400)
    assert.equal(errorCode(bad), 'DIGEST_INVALID')
    assert.equal((await request(base, 'HEAD', `/v2/team/tool/blobs/${img.configDigest}`)).status, 404)
    assert.equal((await request(base, 'HEAD', `/v2/team/tool/blobs/${sha256('something else')}`)).status, 404)
    // monolithic, right digest
    const mono = await request(base, 'POST', `/v2/team/tool/blobs/uploads/?digest=${img.configDigest}`, img.config)
    assert.equal(mono.status, 201, mono.body.toString())

    // a manifest PUT by digest that does not match its bytes
    const mismatch = await request(base, 'PUT', `/v2/team/tool/manifests/${sha256('x')}`, img.manifest, { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' })
    assert.equal(errorCode(mismatch), 'DIGEST_INVALID')
    // an index whose image was not pushed yet is refused
    const INDEX = 'application/vnd.oci.image.index.v1+json'
    const index = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: INDEX,
        manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: img.manifestDigest, size: img.manifest.length, platform: { architecture: 'amd64', os: 'linux' } }]
      })
    )
    assert.equal(errorCode(await request(base, 'PUT', '/v2/team/tool/manifests/multi', index, { 'Content-Type': INDEX })), 'MANIFEST_BLOB_UNKNOWN')
    // too large
    const huge = await request(base, 'PUT', '/v2/team/tool/manifests/huge', Buffer.alloc(5 << 20, 32), { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' })
    assert.equal(huge.status, 413)

    const ok = await request(base, 'PUT', '/v2/team/tool/manifests/1', img.manifest, { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' })
    assert.equal(ok.status, 201, ok.body.toString())
    assert.equal(ok.headers['docker-content-digest'], img.manifestDigest)
    const ls = await hypership(['ls', '--store', store, '--json'])
    const rec = JSON.parse(ls.stdout.trim()) as { names: string[]; id: string }
    assert.deepEqual(rec.names, ['docker.io/team/tool:1'])
    assert.equal(rec.id, img.configDigest)
    // now the index is kept whole and served byte for byte
    const putIndex = await request(base, 'PUT', '/v2/team/tool/manifests/multi', index, { 'Content-Type': INDEX })
    assert.equal(putIndex.status, 201, putIndex.body.toString())
    assert.equal(putIndex.headers['docker-content-digest'], sha256(index))
    for (const ref of ['multi', sha256(index)]) {
      const got = await request(base, 'GET', `/v2/team/tool/manifests/${ref}`)
      assert.equal(got.status, 200)
      assert.equal(got.headers['content-type'], INDEX)
      assert.deepEqual(got.body, index)
    }
    assert.deepEqual(JSON.parse((await request(base, 'GET', '/v2/team/tool/tags/list')).body.toString()), { name: 'team/tool', tags: ['1', 'multi'] })
    // a real client copies the whole index
    const layout = join(await tmpdir(), 'layout')
    const copied = await skopeo(['copy', '--all', '--src-tls-verify=false', `docker://${new URL(base).host}/team/tool:multi`, `oci:${layout}:multi`])
    assert.equal(copied.code, 0, copied.stderr)
    // skopeo checked every digest it fetched (it writes re-encoded manifests of its own into the layout)
    const layoutIndex = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as { manifests: unknown[] }
    assert.equal(layoutIndex.manifests.length, 1)
    const raw = await skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${new URL(base).host}/team/tool:multi`])
    assert.equal(raw.stdout, index.toString())
    // gc keeps the index
    assert.equal((await hypership(['gc', '--store', store])).code, 0)
    assert.equal((await request(base, 'GET', '/v2/team/tool/manifests/multi')).status, 200)

    // a client that goes away mid-chunk: the upload is dropped with its spill file
    const cut = await request(base, 'POST', '/v2/team/tool/blobs/uploads/')
    const cutLoc = new URL(cut.headers.location!, base)
    await new Promise<void>((resolve) => {
      const req = http.request(cutLoc, { method: 'PATCH', headers: { 'Content-Length': String(16 << 20) }, agent: false })
      req.on('error', () => resolve())
      req.write(Buffer.alloc(8 << 20, 1), () => setTimeout(() => {
        req.destroy()
        resolve()
      }, 300))
    })
    let gone = false
    for (let i = 0; i < 50 && !gone; i++) {
      gone = (await request(base, 'GET', cutLoc.pathname)).status === 404
      if (!gone) await new Promise((r) => setTimeout(r, 100))
    }
    assert.ok(gone, 'the cut upload is still listed')
    // the writer removes its spill file as it unwinds, just after the upload is unlisted
    const spillsLeft = async () => (await readdir(join(store, 'tmp')).catch(() => [] as string[])).filter((n) => n.startsWith('spill-'))
    let spills = await spillsLeft()
    for (let i = 0; i < 50 && spills.length > 0; i++) {
      await new Promise((r) => setTimeout(r, 100))
      spills = await spillsLeft()
    }
    assert.deepEqual(spills, [])
    // and one cancelled with DELETE
    const del = await request(base, 'POST', '/v2/team/tool/blobs/uploads/')
    assert.equal((await request(base, 'DELETE', del.headers.location!)).status, 204)
    assert.equal(errorCode(await request(base, 'PATCH', del.headers.location!, Buffer.from('x'))), 'BLOB_UPLOAD_UNKNOWN')

    // what was pushed can be saved like any stored image
    const out = join(await tmpdir(), 'tool.tar')
    const saved = await hypership(['save', '--store', store, 'team/tool:1', '-o', out])
    assert.equal(saved.code, 0, saved.stderr)
  })

  test('a pushed image whose config does not match its compressed layers is refused', async () => {
    const store = await tmpdir()
    const base = await registryDaemon(store)
    const plain = randomBytes(300_000)
    const layer = gzipSync(plain)
    const push = async (blob: Buffer) => {
      const r = await request(base, 'POST', `/v2/team/gz/blobs/uploads/?digest=${sha256(blob)}`, blob)
      assert.equal(r.status, 201, r.body.toString())
    }
    const imageWith = (diffId: string) => {
      const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [diffId] } }))
      const manifest = Buffer.from(JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha256(layer), size: layer.length }]
      }))
      return { config, manifest }
    }
    await push(layer)
    const lie = imageWith(sha256('not what the layer holds'))
    await push(lie.config)
    const refused = await request(base, 'PUT', '/v2/team/gz/manifests/lie', lie.manifest, { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' })
    assert.equal(refused.status, 400)
    assert.equal(errorCode(refused), 'MANIFEST_INVALID')
    assert.match(refused.body.toString(), /uncompresses to sha256:/)
    assert.equal((await request(base, 'GET', '/v2/team/gz/manifests/lie')).status, 404)

    const truth = imageWith(sha256(plain))
    await push(truth.config)
    const ok = await request(base, 'PUT', '/v2/team/gz/manifests/ok', truth.manifest, { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' })
    assert.equal(ok.status, 201, ok.body.toString())
    const verified = await hypership(['verify', '--store', store])
    assert.equal(verified.code, 0, verified.stdout + verified.stderr)
  })

  test('with credentials set, requests and docker login without the right password are refused', async () => {
    const store = await tmpdir()
    const file = join(await tmpdir(), 'users')
    await writeFile(file, 'alice:s3cret\n')
    const base = await registryDaemon(store, ['--registry-auth-file', file])
    const host = `localhost:${new URL(base).port}`

    const anon = await request(base, 'GET', '/v2/')
    assert.equal(anon.status, 401)
    assert.equal(anon.headers['www-authenticate'], 'Basic realm="hypership"')
    assert.equal(errorCode(anon), 'UNAUTHORIZED')
    const basic = (u: string, p: string) => ({ Authorization: `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}` })
    assert.equal((await request(base, 'GET', '/v2/', undefined, basic('alice', 'wrong'))).status, 401)
    assert.equal((await request(base, 'GET', '/v2/', undefined, basic('bob', 's3cret'))).status, 401)
    assert.equal((await request(base, 'GET', '/v2/', undefined, basic('alice', 's3cret'))).status, 200)

    const refused = await dockerd.docker(['login', '-u', 'alice', '-p', 'wrong', host])
    assert.notEqual(refused.code, 0)
    assert.match(refused.stderr, /401|unauthorized/i)
    await docker(['load', '-i', sampleTar])
    await docker(['tag', 'hypership/sample:1.0', `${host}/private:1`])
    const noLogin = await dockerd.docker(['push', `${host}/private:1`])
    assert.notEqual(noLogin.code, 0)
    assert.match(noLogin.stdout + noLogin.stderr, /basic auth|unauthorized|401/i)

    // skopeo's login probes the same way
    const authfile = join(await tmpdir(), 'auth.json')
    const skWrong = await skopeo(['login', '--tls-verify=false', '--authfile', authfile, '-u', 'alice', '-p', 'wrong', host])
    assert.notEqual(skWrong.code, 0)
    const skOk = await skopeo(['login', '--tls-verify=false', '--authfile', authfile, '-u', 'alice', '-p', 's3cret', host])
    assert.equal(skOk.code, 0, skOk.stderr)

    const ok = await dockerd.docker(['login', '-u', 'alice', '-p', 's3cret', host])
    assert.equal(ok.code, 0, ok.stderr)
    assert.match(ok.stdout, /Login Succeeded/)
    await docker(['push', `${host}/private:1`])
    const ls = await hypership(['ls', '--store', store, '--json'])
    assert.match(ls.stdout, /docker\.io\/library\/private:1/)
  })

  test('a non-loopback address is refused without --registry-any-host', async () => {
    const r = await hypership(['daemon', '--store', await tmpdir(), '--registry', '0.0.0.0:5000'], NET)
    assert.equal(r.code, 2)
    assert.match(r.stderr, /\[HS_ERR_BAD_REFERENCE\]/)
  })
})
