import type { ArgumentsCamelCase, Argv } from 'yargs'
import { type UnshareResult, unshareImages } from '../../ops/unshare.js'
import { type GlobalArgs, withStore } from '../context.js'
import { out } from '../output.js'

interface Args extends GlobalArgs {
  key: string
  images: string[]
}

export const command = 'unshare <key> [images..]'
export const describe = 'Withdraw images from a share of this store, or stop the share when none are named'

export function builder(y: Argv): Argv<Args> {
  return y
    .positional('key', { type: 'string', describe: 'a share key this store created' })
    .positional('images', { type: 'string', array: true, default: [], describe: 'NAME[:TAG] to untag, or an image ID to remove' }) as unknown as Argv<Args>
}

export async function handler(args: ArgumentsCamelCase<Args>): Promise<void> {
  const r = await withStore(args, {
    daemon: (client) => client.call<UnshareResult>('unshare', { key: args.key, images: args.images }),
    local: (store) => unshareImages(store, undefined, args.key, args.images)
  })
  if (r.stopped) out.info(`Stopped sharing ${r.key}; receivers keep what they already have`)
  for (const w of r.withdrawn) out.result(`Withdrawn: ${w}`)
}
