import assert from 'node:assert/strict'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { gzipSync } from 'node:zlib'
import { hasCode } from '../../src/errors.js'
import { DockerArchiveDestination } from '../../src/transports/docker-archive/destination.js'
import { DockerArchiveSource } from '../../src/transports/docker-archive/source.js'
import { openDestination, openSource, parseLocation, sniffPath } from '../../src/transports/location.js'
import { OciLayoutDestination } from '../../src/transports/oci-layout/destination.js'
import { OciLayoutSource } from '../../src/transports/oci-layout/source.js'
import { fullNames, hybridEntries, legacyDockerEntries, ociEntries, writeEntries } from '../helpers/image-builder.js'
import { tmpdir } from '../helpers/tmp.js'
import { fixture, writeTar } from './fixtures.js'

describe('parseLocation', () => {
  const rows: Array<[string, object]> = [
    ['docker-archive:/tmp/x.tar', { kind: 'docker-archive', path: '/tmp/x.tar' }],
    ['docker-archive:/tmp/x.tar:app', { kind: 'docker-archive', path: '/tmp/x.tar', name: 'app' }], // skopeo syntax, NAME only
    ['docker-archive:x.tar:example.com/app:1', { kind: 'docker-archive', path: 'x.tar', name: 'example.com/app:1' }], // NAME:TAG
    ['oci-archive:/tmp/b.oci.tar:1.0', { kind: 'oci-archive', path: '/tmp/b.oci.tar', ref: '1.0' }],
    ['oci:/tmp/layout', { kind: 'oci', path: '/tmp/layout' }],
    ['oci:/tmp/layout:latest', { kind: 'oci', path: '/tmp/layout', ref: 'latest' }],
    ['ubuntu:22.04', { kind: 'store', reference: 'ubuntu:22.04' }], // not a path: a store name
    ['example.com/app:1', { kind: 'store', reference: 'example.com/app:1' }]
  ]
  for (const [input, want] of rows) {
    it(`parses ${input}`, async () => assert.deepEqual(await parseLocation(input), want))
  }

  it('reports a missing path-like source as HS_ERR_IO, not a store name', async () => {
    for (const input of ['no/such/file.tar', './missing', '/no/such/dir']) {
      await assert.rejects(parseLocation(input), (err) => hasCode(err, 'HS_ERR_IO'), input)
    }
  })

  it('rejects malformed locations', async () => {
    for (const input of ['docker-archive:', 'oci:', 'docker-archive:x.tar:', 'docker-archive:x.tar:Bad:1']) {
      await assert.rejects(parseLocation(input), (err) => hasCode(err, 'HS_ERR_BAD_REFERENCE'), input)
    }
  })
})

describe('sniffPath', async () => {
  const fx = await fixture('gzip')
  const dir = await tmpdir()
  const legacy = await writeTar(dir, 'legacy.tar', await legacyDockerEntries([{ image: fx.app, repoTags: ['app:1'] }]))
  const hybrid = await writeTar(dir, 'hybrid', hybridEntries([fx.app]))
  const oci = await writeTar(dir, 'layout.oci', ociEntries([fx.app], fullNames))
  const gz = join(dir, 'legacy.tar.gz')
  await writeFile(gz, gzipSync(await readFile(legacy)))
  const layoutDir = join(dir, 'layout')
  await writeEntries(layoutDir, ociEntries([fx.app], fullNames))
  const plainDir = join(dir, 'plain')
  await mkdir(plainDir)
  const junk = join(dir, 'junk.bin')
  await writeFile(junk, Buffer.alloc(4096, 0x41))

  const rows: Array<[string, string, string]> = [
    ['legacy docker save tar', legacy, 'docker-archive'],
    ['hybrid tar with manifest.json at the end', hybrid, 'docker-archive'],
    ['OCI layout tar', oci, 'oci-archive'],
    ['gzip-compressed docker save tar', gz, 'docker-archive'],
    ['OCI layout directory', layoutDir, 'oci']
  ]
  for (const [label, path, kind] of rows) {
    it(`recognises a ${label}`, async () => {
      assert.equal(await sniffPath(path), kind)
      assert.deepEqual(await parseLocation(path), { kind, path })
    })
  }

  it('refuses what it cannot recognise', async () => {
    await assert.rejects(sniffPath(plainDir), (err) => hasCode(err, 'HS_ERR_BAD_ARCHIVE'))
    await assert.rejects(sniffPath(junk), (err) => hasCode(err, 'HS_ERR_BAD_ARCHIVE'))
  })

  it('opens sources and destinations of the right class', async () => {
    assert.ok(openSource(await parseLocation(legacy)) instanceof DockerArchiveSource)
    assert.ok(openSource(await parseLocation(oci)) instanceof OciLayoutSource)
    assert.equal(openSource(await parseLocation(`oci:${layoutDir}:1`)).description, `oci:${layoutDir}:1`)
    assert.throws(() => openSource({ kind: 'store', reference: 'ubuntu' }), (err) => hasCode(err, 'HS_ERR_BAD_REFERENCE'))
    assert.ok((await openDestination(join(dir, 'new.tar'))) instanceof DockerArchiveDestination)
    assert.ok((await openDestination(`oci:${join(dir, 'newdir')}`)) instanceof OciLayoutDestination)
    assert.equal((await openDestination(`oci-archive:${join(dir, 'n.tar')}:2`)).description, `oci-archive:${join(dir, 'n.tar')}:2`)
    await assert.rejects(openDestination(join(dir, 'nameless')), (err) => hasCode(err, 'HS_ERR_BAD_REFERENCE'))
  })
})
