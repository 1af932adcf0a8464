import { appendFile, mkdir, readFile, readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { CoreRef } from './blob-store.js'

/**
 * An undo log for one import: each core is recorded before it is created,
 * so when a process dies mid-import the next one to open the store purges
 * what was left. A journal is deleted once its import commits or aborts.
 */
export class Journal {
  readonly path: string

  constructor(dir: string, id: string) {
    this.path = join(dir, `${process.pid}-${id}.jsonl`)
  }

  async record(ref: CoreRef): Promise<void> {
    await appendFile(this.path, `${JSON.stringify(ref)}\n`)
  }

  async remove(): Promise<void> {
    await rm(this.path, { force: true })
  }
}

/** Journals left by processes that are gone, with the cores they name. */
export async function staleJournals(dir: string): Promise<Array<{ path: string; refs: CoreRef[] }>> {
  await mkdir(dir, { recursive: true })
  const out: Array<{ path: string; refs: CoreRef[] }> = []
  for (const name of await readdir(dir)) {
    const pid = Number(name.split('-')[0])
    if (!name.endsWith('.jsonl') || !Number.isInteger(pid) || isAlive(pid)) continue
    const path = join(dir, name)
    const text = await readFile(path, 'utf8').catch(() => '')
    const refs: CoreRef[] = []
    for (const line of text.split('\n')) {
      try {
        if (line) refs.push(JSON.parse(line) as CoreRef)
      } catch {
        // a torn last line: the core it named was never created
      }
    }
    out.push({ path, refs })
  }
  return out
}

function isAlive(pid: number): boolean {
  if (pid === process.pid) return true
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}
