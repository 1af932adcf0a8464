import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { hasCode } from '../../src/errors.js'
import { canonicalTag, familiarName, formatReference, isDigest, looksLikeId, parseReference, tagTarget } from '../../src/image/reference.js'

const D = `sha256:${'a'.repeat(64)}`

describe('parseReference', () => {
  // [input, fully qualified form, familiar form]
  const good: Array<[string, string, string]> = [
    ['ubuntu', 'docker.io/library/ubuntu:latest', 'ubuntu:latest'], // official image, default tag
    ['ubuntu:22.04', 'docker.io/library/ubuntu:22.04', 'ubuntu:22.04'], // explicit tag
    ['library/ubuntu', 'docker.io/library/ubuntu:latest', 'ubuntu:latest'], // explicit library/
    ['docker.io/ubuntu', 'docker.io/library/ubuntu:latest', 'ubuntu:latest'], // explicit default registry
    ['index.docker.io/library/ubuntu:1', 'docker.io/library/ubuntu:1', 'ubuntu:1'], // legacy registry name
    ['p2p-test/busybox:1.0', 'docker.io/p2p-test/busybox:1.0', 'p2p-test/busybox:1.0'], // user repository
    ['localhost:5000/x', 'localhost:5000/x:latest', 'localhost:5000/x:latest'], // registry with port is kept
    ['localhost/p2p-test/busybox:1.0', 'localhost/p2p-test/busybox:1.0', 'localhost/p2p-test/busybox:1.0'], // podman's localhost/
    ['example.com/a/b/c:v1.2-rc_3', 'example.com/a/b/c:v1.2-rc_3', 'example.com/a/b/c:v1.2-rc_3'], // nested path
    [`ubuntu@${D}`, `docker.io/library/ubuntu@${D}`, `ubuntu@${D}`], // digest only: no tag
    [`ubuntu:22.04@${D}`, `docker.io/library/ubuntu:22.04@${D}`, `ubuntu:22.04@${D}`], // tag and digest
    ['a__b-c/d.e', 'docker.io/a__b-c/d.e:latest', 'a__b-c/d.e:latest'] // separators
  ]
  for (const [input, full, familiar] of good) {
    it(`parses ${input}`, () => {
      const ref = parseReference(input)
      assert.equal(formatReference(ref), full)
      assert.equal(familiarName(ref), familiar)
      assert.equal(formatReference(parseReference(formatReference(ref))), full) // round-trips
    })
  }

  const bad: Array<[string, string]> = [
    ['', 'empty'],
    ['Ubuntu', 'uppercase repository'],
    ['MYORG/bb:1', 'uppercase first component: Docker 20.10 refuses it as a repository'],
    ['ubuntu:', 'empty tag'],
    [' ubuntu', 'leading space'],
    ['ubuntu@sha256:abc', 'short digest'],
    ['ubuntu@md5:' + 'a'.repeat(32), 'unsupported digest algorithm'],
    ['a//b', 'empty path component'],
    ['a_b.c/x', 'a dotted first component is a registry host, and _ is not allowed there'],
    ['-ubuntu', 'leading separator'],
    ['ubuntu:' + 'x'.repeat(129), 'tag over 128 characters'],
    ['ubuntu:-x', 'tag starting with a dash'],
    ['example.com/' + 'a'.repeat(250), 'name over 255 characters']
  ]
  for (const [input, why] of bad) {
    it(`rejects ${JSON.stringify(input.slice(0, 40))} (${why})`, () => {
      assert.throws(() => parseReference(input), (err) => hasCode(err, 'HS_ERR_BAD_REFERENCE'))
    })
  }
})

describe('canonicalTag', () => {
  it('normalises to repo:tag', () => {
    assert.equal(canonicalTag('busybox'), 'docker.io/library/busybox:latest')
    assert.equal(canonicalTag('localhost:5000/x:2'), 'localhost:5000/x:2')
  })
  it('refuses a digest-only reference', () => {
    assert.throws(() => canonicalTag(`busybox@${D}`), (err) => hasCode(err, 'HS_ERR_BAD_REFERENCE'))
  })
  it('recognises bare digests', () => {
    assert.equal(isDigest(D), true)
    assert.equal(isDigest('sha256:abc'), false)
  })
})

describe('tagTarget', () => {
  it('accepts a name and returns repo:tag', () => {
    assert.equal(tagTarget('myorg/bb:2'), 'docker.io/myorg/bb:2')
  })
  // [input, why docker tag refuses it]
  const refused: Array<[string, string]> = [
    ['sha256:abc', 'reads as an image ID'],
    ['8900391bd472', 'a short image ID'],
    [`myorg/bb:2@${D}`, 'a tag with a digest'],
    [`myorg/bb@${D}`, 'a digest, no tag']
  ]
  for (const [input, why] of refused) {
    it(`refuses ${input.slice(0, 30)} (${why})`, () => {
      assert.throws(() => tagTarget(input), (err) => hasCode(err, 'HS_ERR_BAD_REFERENCE'))
    })
  }
})

describe('looksLikeId', () => {
  it('tells IDs from names', () => {
    assert.equal(looksLikeId('sha256:8900391bd472'), true)
    assert.equal(looksLikeId('8900391bd472'), true)
    assert.equal(looksLikeId(D), true)
    assert.equal(looksLikeId('busybox'), false)
    assert.equal(looksLikeId('sha256:abc'), false)
  })
})
