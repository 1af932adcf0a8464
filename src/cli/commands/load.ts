import { access } from 'node:fs/promises'
import type { ArgumentsCamelCase, Argv } from 'yargs'
import { wrap } from '../../errors.js'
import { familiarName, parseReference } from '../../image/reference.js'
import { loadImages } from '../../ops/images.js'
import type { ImageRecord } from '../../store/image-db.js'
import { hasPrefix } from '../../transports/location.js'
import { type EngineArgs, type GlobalArgs, absoluteLocation, dockerHostOf, pathForDaemon, withEngine, withStore } from '../context.js'
import { out } from '../output.js'

interface Args extends GlobalArgs, EngineArgs {
  input: string
  quiet?: boolean
}

export const command = 'load'
export const describe = 'Load images from a docker-archive, oci-archive, OCI layout or docker-daemon:NAME[:TAG], verifying everything first'

export function builder(y: Argv): Argv<Args> {
  return withEngine(y)
    .option('input', { alias: 'i', type: 'string', demandOption: true, describe: 'archive file or layout (a bare path is sniffed), or docker-daemon:NAME[:TAG]' })
    .option('quiet', { alias: 'q', type: 'boolean', describe: 'print nothing on success' }) as unknown as Argv<Args>
}

export async function handler(args: ArgumentsCamelCase<Args>): Promise<void> {
  // -i always names a file or folder, never a stored image
  if (!hasPrefix(args.input)) {
    await access(args.input).catch((err: unknown) => {
      throw wrap(err, `reading ${args.input}`)
    })
  }
  const input = await absoluteLocation(args.input)
  const dockerHost = input.startsWith('docker-daemon:') ? dockerHostOf(args) : undefined
  const records = await withStore(args, {
    daemon: (client) => client.call<ImageRecord[]>('load', { input: pathForDaemon(input, 'input'), dockerHost }),
    local: (store) => loadImages(store, input, { dockerHost })
  })
  if (args.quiet) return
  for (const rec of records) {
    if (rec.tags.length === 0) out.result(`Loaded image ID: ${rec.config}`)
    for (const tag of rec.tags) out.result(`Loaded image: ${familiarName(parseReference(tag))}`)
  }
}
