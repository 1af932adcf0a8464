import type { ArgumentsCamelCase, Argv } from 'yargs'
import { familiarName, parseReference } from '../../image/reference.js'
import { type GlobalArgs, withStore } from '../context.js'
import { out } from '../output.js'

interface Args extends GlobalArgs {
  images: string[]
}

type Removed = { untagged: string[]; deleted?: string }

export const command = ['rm <images..>', 'rmi']
export const describe = 'Remove images from the store (a name untags; the last tag or a digest deletes)'

export function builder(y: Argv): Argv<Args> {
  return y.positional('images', { type: 'string', array: true, describe: 'NAME[:TAG] or digest' }) as unknown as Argv<Args>
}

export async function handler(args: ArgumentsCamelCase<Args>): Promise<void> {
  for (const image of args.images) {
    const { untagged, deleted } = await withStore<Removed>(
      args,
      {
        daemon: (client) => client.call<Removed>('rm', { image }),
        local: (store) => store.remove(image)
      },
      { blobs: 'optional' }
    )
    for (const t of untagged) out.result(`Untagged: ${familiarName(parseReference(t))}`)
    if (deleted) out.result(`Deleted: ${deleted}`)
  }
}
