import type { ArgumentsCamelCase, Argv } from 'yargs'
import { saveImages } from '../../ops/images.js'
import type { ImageRecord } from '../../store/image-db.js'
import { type GlobalArgs, absoluteDestination, withStore } from '../context.js'
import { out } from '../output.js'

interface Args extends GlobalArgs {
  images: string[]
  output: string
}

export const command = 'save <images..>'
export const describe = 'Write stored images to a docker-archive (or oci-archive:/oci: destination)'

export function builder(y: Argv): Argv<Args> {
  return y
    .positional('images', { type: 'string', array: true, describe: 'NAME[:TAG] or digest' })
    .option('output', {
      alias: 'o',
      type: 'string',
      demandOption: true,
      describe: 'FILE (a docker-archive), or oci-archive:FILE, or oci:DIR'
    }) as unknown as Argv<Args>
}

export async function handler(args: ArgumentsCamelCase<Args>): Promise<void> {
  const output = await absoluteDestination(args.output)
  const saved = await withStore(args, {
    daemon: (client) => client.call<ImageRecord[]>('save', { images: args.images, output }),
    local: (store) => saveImages(store, args.images, output)
  })
  out.info(`Saved ${saved.length} image(s) to ${args.output}`)
}
