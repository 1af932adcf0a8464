import { randomBytes } from 'node:crypto'
import { type FileHandle, mkdir, open, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type Hypercore from 'hypercore'
import crypto from 'hypercore-crypto'

/** One node of a hypercore Merkle tree, in flat-tree numbering. */
interface TreeNode {
  index: number
  size: number
  hash: Buffer
}

/** Blobs up to this size stay in memory; bigger ones spill to a file. */
const MEMORY_LIMIT = 4 << 20
/** Name prefix of spill files in the store's tmp folder. */
export const SPILL_PREFIX = 'spill-'

/**
 * Builds the content of a static blob core in one pass over the bytes:
 * blocks are hashed into the hypercore Merkle tree as they arrive and set
 * aside (in memory, or in a plain file once the blob is large), so the
 * core's key is known at the end without having written anything to
 * RocksDB. `fill` then writes each block into the final core exactly once,
 * through hypercore's own prologue import, which checks the tree again.
 *
 * The alternative (append to a throwaway core, then copy it into the static
 * core) writes every byte to the database twice and leaves a purge for
 * compaction to reclaim.
 */
export class BlobWriter {
  readonly #spillDir: string
  /** Every tree node, by flat-tree index. */
  readonly #nodes = new Map<number, TreeNode>()
  /** Full subtrees not yet joined to a sibling, left to right. */
  readonly #stack: { node: TreeNode; depth: number }[] = []
  #blocks: Buffer[] = []
  #inMemory = 0
  #file: FileHandle | undefined
  #filePath: string | undefined
  #fileBytes = 0
  #sizes: number[] = []
  #length = 0

  constructor(spillDir: string) {
    this.#spillDir = spillDir
  }

  /** Blocks so far. */
  get length(): number {
    return this.#length
  }

  /** Adds the next block (every block but the last must be full-sized). */
  async push(block: Buffer): Promise<void> {
    const index = this.#length++
    const leaf: TreeNode = { index: 2 * index, size: block.length, hash: crypto.data(block) }
    this.#add(leaf)
    this.#sizes.push(block.length)
    if (this.#file === undefined && this.#inMemory + block.length > MEMORY_LIMIT) await this.#spill()
    if (this.#file) {
      await this.#file.write(block, 0, block.length, this.#fileBytes)
      this.#fileBytes += block.length
    } else {
      this.#blocks.push(block)
      this.#inMemory += block.length
    }
  }

  /** The manifest of the static core holding these blocks (at least one). */
  manifest(): Hypercore.Manifest {
    return { version: 1, signers: [], quorum: 0, prologue: { hash: crypto.tree(this.#roots()), length: this.#length } }
  }

  /** Writes every block into `core`, a fresh session on the core `manifest()` names. */
  async fill(core: Hypercore): Promise<void> {
    await core.core.copyPrologue(this.#asSource())
  }

  /** Drops the spill file. Safe to call more than once. */
  async dispose(): Promise<void> {
    const file = this.#file
    this.#file = undefined
    this.#blocks = []
    await file?.close().catch(() => {})
    if (this.#filePath) await rm(this.#filePath, { force: true })
  }

  #add(leaf: TreeNode): void {
    this.#nodes.set(leaf.index, leaf)
    let top = { node: leaf, depth: 0 }
    // two neighbouring subtrees of equal depth join under their parent
    for (let left = this.#stack.at(-1); left && left.depth === top.depth; left = this.#stack.at(-1)) {
      this.#stack.pop()
      const parent: TreeNode = {
        index: (left.node.index + top.node.index) / 2,
        size: left.node.size + top.node.size,
        hash: crypto.parent(left.node, top.node)
      }
      this.#nodes.set(parent.index, parent)
      top = { node: parent, depth: top.depth + 1 }
    }
    this.#stack.push(top)
  }

  #roots(): TreeNode[] {
    return this.#stack.map((s) => s.node)
  }

  async #spill(): Promise<void> {
    await mkdir(this.#spillDir, { recursive: true })
    this.#filePath = join(this.#spillDir, `${SPILL_PREFIX}${process.pid}-${randomBytes(8).toString('hex')}`)
    this.#file = await open(this.#filePath, 'wx+', 0o600)
    for (const block of this.#blocks) {
      await this.#file.write(block, 0, block.length, this.#fileBytes)
      this.#fileBytes += block.length
    }
    this.#blocks = []
    this.#inMemory = 0
  }

  async #block(index: number): Promise<Buffer> {
    if (!this.#file) return this.#blocks[index] as Buffer
    const size = this.#sizes[index] as number
    const buf = Buffer.allocUnsafe(size)
    // every block before the last is full-sized, so offsets follow from the first
    const offset = index * (this.#sizes[0] as number)
    const { bytesRead } = await this.#file.read(buf, 0, size, offset)
    if (bytesRead !== size) throw new Error(`spill file ended early at block ${index}`)
    return buf
  }

  /**
   * The little of a hypercore session that `copyPrologue` reads: the length,
   * a lock, blocks (newest first), tree nodes and user data.
   */
  #asSource(): unknown {
    const length = this.#length
    const nodes = this.#nodes
    const block = (i: number) => this.#block(i)
    return {
      length,
      mutex: { lock: async () => {}, unlock: () => {} },
      storage: {
        createBlockStream: ({ gte, lt }: { gte: number; lt: number }) =>
          (async function* () {
            for (let i = Math.min(lt, length) - 1; i >= gte; i--) yield { index: i, value: await block(i) }
          })(),
        read: () => ({
          getTreeNode: async (index: number) => nodes.get(index) ?? null,
          tryFlush: () => {}
        }),
        createUserDataStream: () => (async function* () {})()
      }
    }
  }
}
