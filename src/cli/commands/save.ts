import type { ArgumentsCamelCase, Argv } from 'yargs'
import { ErrorCodes, HypershipError } from '../../errors.js'
import { saveImages } from '../../ops/images.js'
import { hasPrefix } from '../../transports/location.js'
import type { ImageRecord } from '../../store/image-db.js'
import { type EngineArgs, type GlobalArgs, absoluteDestination, dockerHostOf, pathForDaemon, withEngine, withStore } from '../context.js'
import { out } from '../output.js'

interface Args extends GlobalArgs, EngineArgs {
  images: string[]
  output?: string
}

export const command = 'save <images..>'
export const describe = 'Write stored images to a docker-archive (or an oci-archive:, oci: or docker-daemon: destination)'

export function builder(y: Argv): Argv<Args> {
  return withEngine(y)
    .positional('images', { type: 'string', array: true, describe: 'NAME[:TAG] or digest; a last docker-daemon:/oci:/oci-archive:/docker-archive: location is the destination' })
    .option('output', {
      alias: 'o',
      type: 'string',
      describe: 'FILE (a docker-archive), oci-archive:FILE, oci:DIR, or docker-daemon:[NAME[:TAG]] (load into Docker)'
    }) as unknown as Argv<Args>
}

export async function handler(args: ArgumentsCamelCase<Args>): Promise<void> {
  const { images, destination } = split(args)
  const output = await absoluteDestination(destination)
  const dockerHost = destination.startsWith('docker-daemon:') ? dockerHostOf(args) : undefined
  const saved = await withStore(args, {
    daemon: (client) => client.call<ImageRecord[]>('save', { images, output: pathForDaemon(output, 'output'), dockerHost }),
    local: (store) => saveImages(store, images, output, { dockerHost })
  })
  out.info(`Saved ${saved.length} image(s) to ${destination}`)
}

/** The images and the destination: `-o DEST`, or a last argument that is a location (store names never have a transport prefix). */
function split(args: Args): { images: string[]; destination: string } {
  const last = args.images.at(-1)
  if (args.output === undefined && args.images.length >= 2 && last !== undefined && hasPrefix(last)) {
    return { images: args.images.slice(0, -1), destination: last }
  }
  if (args.output === undefined) {
    const file = args.images.length >= 2 && last !== undefined && /[/\\]|\.tar$/i.test(last) ? last : undefined
    throw new HypershipError(
      ErrorCodes.BAD_REFERENCE,
      file
        ? `to write ${file}, say -o ${file} (a destination given last needs a transport prefix, e.g. docker-archive:${file})`
        : 'say where to save: -o FILE, or a last argument such as docker-daemon:NAME:TAG or oci:DIR'
    )
  }
  return { images: args.images, destination: args.output }
}
