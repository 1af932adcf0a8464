import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { isRootName, linkTarget, safePath } from '../../src/archive/path.js'
import { hasCode } from '../../src/errors.js'

const badArchive = (err: unknown): boolean => hasCode(err, 'HS_ERR_BAD_ARCHIVE')

describe('safePath', () => {
  const good: Array<[string, string]> = [
    ['manifest.json', 'manifest.json'], // plain name
    ['./manifest.json', 'manifest.json'], // docker save / tar -C dir . prefix
    ['././a/./b', 'a/b'], // repeated and inner "." components
    ['dir/', 'dir'], // directory entries end in a slash
    ['a//b', 'a/b'], // doubled slash
    ['blobs/sha256/' + 'a'.repeat(64), 'blobs/sha256/' + 'a'.repeat(64)]
  ]
  for (const [input, want] of good) {
    it(`normalises ${JSON.stringify(input)}`, () => assert.equal(safePath(input), want))
  }

  const bad = ['../x', 'a/../../x', 'a/..', '/etc/passwd', '/', '', './', 'a\0b']
  for (const input of bad) {
    it(`refuses ${JSON.stringify(input)}`, () => assert.throws(() => safePath(input), badArchive))
  }
})

describe('linkTarget', () => {
  it('resolves a podman layer.tar symlink to the top-level diff_id tar', () => {
    assert.equal(linkTarget('abc/layer.tar', '../123.tar', 'symlink'), '123.tar')
  })
  it('resolves hard links from the archive root', () => {
    assert.equal(linkTarget('x/y', 'a/b', 'hardlink'), 'a/b')
  })
  it('refuses symlinks that climb out of the archive', () => {
    assert.throws(() => linkTarget('abc/layer.tar', '../../etc/passwd', 'symlink'), badArchive)
    assert.throws(() => linkTarget('layer.tar', '/etc/passwd', 'symlink'), badArchive)
    assert.throws(() => linkTarget('x', '../y', 'hardlink'), badArchive)
  })
  it('knows the archive root names', () => {
    assert.equal(isRootName('./'), true)
    assert.equal(isRootName('.'), true)
    assert.equal(isRootName('./a'), false)
  })
})
