import assert from 'node:assert/strict'
import { readdir, readFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { test } from 'node:test'

const SRC = fileURLToPath(new URL('../../src/', import.meta.url))

// Which top-level folders of src/ each folder may import. Files at the top
// (errors.ts, log.ts, index.ts) are '.'.
const ALLOWED: Record<string, string[]> = {
  '.': ['.', 'image', 'archive', 'transports', 'store', 'copy', 'p2p'],
  image: ['.', 'image'],
  archive: ['.', 'image', 'archive'],
  transports: ['.', 'image', 'archive', 'transports'],
  store: ['.', 'image', 'store'],
  copy: ['.', 'image', 'archive', 'store', 'copy'],
  p2p: ['.', 'image', 'archive', 'store', 'p2p'],
  ops: ['.', 'image', 'archive', 'transports', 'store', 'copy', 'p2p', 'ops'],
  registry: ['.', 'image', 'archive', 'store', 'p2p', 'registry'],
  daemon: ['.', 'image', 'store', 'p2p', 'ops', 'registry', 'daemon'],
  client: ['.', 'daemon', 'client'],
  cli: ['.', 'image', 'transports', 'store', 'ops', 'p2p', 'registry', 'daemon', 'client', 'cli']
}

async function* tsFiles(dir: string): AsyncGenerator<string> {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    if (e.isDirectory()) yield* tsFiles(p)
    else if (e.name.endsWith('.ts')) yield p
  }
}

const area = (rel: string) => (rel.includes('/') ? rel.split('/')[0] ?? '.' : '.')

test('src/ folders import only the layers below them', async () => {
  const violations: string[] = []
  for await (const file of tsFiles(SRC)) {
    const rel = relative(SRC, file)
    const from = area(rel)
    const text = await readFile(file, 'utf8')
    for (const m of text.matchAll(/from '(\.[^']+)'/g)) {
      const target = relative(SRC, join(file, '..', m[1] ?? ''))
      const to = area(target)
      if (!(ALLOWED[from] ?? []).includes(to)) violations.push(`${rel} imports ${m[1]} (${from} → ${to})`)
    }
    if (/from '(hyperswarm|corestore|hypercore|hyperdht)'/.test(text) && !['p2p', 'store'].includes(from)) {
      violations.push(`${rel} uses the Holepunch stack outside store/ and p2p/`)
    }
  }
  assert.deepEqual(violations, [])
})

test('only src/cli/output.ts writes to the console', async () => {
  const offenders: string[] = []
  for await (const file of tsFiles(SRC)) {
    const rel = relative(SRC, file)
    if (rel === join('cli', 'output.ts')) continue
    const text = await readFile(file, 'utf8')
    if (/\bconsole\.(log|error|warn|info|debug)\(|process\.(stdout|stderr)\.write\(/.test(text)) offenders.push(rel)
  }
  assert.deepEqual(offenders, [])
})
