/**
 * How many bytes of an image's blobs a (stopped) hypership store holds,
 * counted block by block, without opening it as a hypership store (that
 * would run crash recovery). The blob list comes from the sharer's index.
 *
 *   node held-bytes.js STORE SHARER_STORE     prints {"heldBytes","blocks","blobs"}
 */
import { readFile, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import Corestore from 'corestore'
import CoreStorage from 'hypercore-storage'

const BLOCK = 1 << 20
const [storeDir, sharerDir] = process.argv.slice(2)
if (!storeDir || !sharerDir) throw new Error('usage: held-bytes STORE SHARER_STORE')

const indexDir = join(sharerDir, 'blobs', 'sha256')
const entries = await Promise.all(
  (await readdir(indexDir)).filter((n) => n.endsWith('.json')).map(async (n) => JSON.parse(await readFile(join(indexDir, n), 'utf8')) as { size: number; key: string; blocks: number })
)
const store = new Corestore(new CoreStorage(join(storeDir, 'cores')))
await store.ready()
let heldBytes = 0
let blocks = 0
for (const e of entries) {
  if (!e.key) continue
  const core = store.get({ key: Buffer.from(e.key, 'hex') })
  try {
    await core.ready()
    for (let i = 0; i < e.blocks; i++) {
      if (!(await core.has(i))) continue
      blocks++
      heldBytes += i === e.blocks - 1 ? e.size - i * BLOCK : BLOCK
    }
  } finally {
    await core.close()
  }
}
await store.close()
process.stdout.write(`${JSON.stringify({ heldBytes, blocks, blobs: entries.length })}\n`)
