import type { ArgumentsCamelCase, Argv } from 'yargs'
import { saveImages } from '../../ops/images.js'
import type { ImageRecord } from '../../store/image-db.js'
import { type EngineArgs, type GlobalArgs, absoluteDestination, dockerHostOf, withEngine, withStore } from '../context.js'
import { out } from '../output.js'

interface Args extends GlobalArgs, EngineArgs {
  images: string[]
  output: string
}

export const command = 'save <images..>'
export const describe = 'Write stored images to a docker-archive (or an oci-archive:, oci: or docker-daemon: destination)'

export function builder(y: Argv): Argv<Args> {
  return withEngine(y)
    .positional('images', { type: 'string', array: true, describe: 'NAME[:TAG] or digest' })
    .option('output', {
      alias: 'o',
      type: 'string',
      demandOption: true,
      describe: 'FILE (a docker-archive), oci-archive:FILE, oci:DIR, or docker-daemon:[NAME[:TAG]] (load into Docker)'
    }) as unknown as Argv<Args>
}

export async function handler(args: ArgumentsCamelCase<Args>): Promise<void> {
  const output = await absoluteDestination(args.output)
  const dockerHost = args.output.startsWith('docker-daemon:') ? dockerHostOf(args) : undefined
  const saved = await withStore(args, {
    daemon: (client) => client.call<ImageRecord[]>('save', { images: args.images, output, dockerHost }),
    local: (store) => saveImages(store, args.images, output, { dockerHost })
  })
  out.info(`Saved ${saved.length} image(s) to ${args.output}`)
}
