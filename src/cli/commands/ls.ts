import type { ArgumentsCamelCase, Argv } from 'yargs'
import { familiarName, parseReference } from '../../image/reference.js'
import { type GlobalArgs, openStore } from '../context.js'
import { humanSize, out, table } from '../output.js'

interface Args extends GlobalArgs {
  json?: boolean
  digests?: boolean
}

export const command = ['ls', 'images']
export const describe = 'List stored images'

export function builder(y: Argv): Argv<Args> {
  return y
    .option('json', { type: 'boolean', describe: 'one JSON object per image' })
    .option('digests', { type: 'boolean', describe: 'show full manifest digests' }) as unknown as Argv<Args>
}

export async function handler(args: ArgumentsCamelCase<Args>): Promise<void> {
  const store = await openStore(args, { blobs: false })
  try {
    const images = await store.images()
    if (args.json) {
      for (const r of images) out.json({ digest: r.digest, id: r.config, names: r.tags, size: r.size, added: r.added })
      return
    }
    const rows = [['REPOSITORY', 'TAG', 'DIGEST', 'IMAGE ID', 'SIZE']]
    for (const r of images) {
      const digest = args.digests ? r.digest : r.digest.slice(0, 19)
      const id = r.config.slice(7, 19)
      const names = r.tags.length ? r.tags : [undefined]
      for (const tag of names) {
        const ref = tag ? parseReference(tag) : undefined
        const repo = ref ? familiarName({ ...ref, tag: undefined } as typeof ref) : '<none>'
        rows.push([repo, ref?.tag ?? '<none>', digest, id, humanSize(r.size)])
      }
    }
    table(rows)
  } finally {
    await store.close()
  }
}
