import type { ArgumentsCamelCase, Argv } from 'yargs'
import { exportImages } from '../../copy/export.js'
import { canonicalTag, isDigest } from '../../image/reference.js'
import { openDestination } from '../../transports/location.js'
import { type GlobalArgs, openStore } from '../context.js'
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
  const store = await openStore(args)
  try {
    const records = []
    const names: string[][] = []
    for (const input of args.images) {
      const rec = await store.resolve(input)
      const existing = records.indexOf(rec)
      // like docker save: a name saves that tag; a digest saves every tag
      const tags = isDigest(input) || /^[a-f0-9]{12,64}$/.test(input) ? rec.tags : [canonicalTag(input)]
      if (existing === -1) {
        records.push(rec)
        names.push(tags)
      } else {
        names[existing] = [...new Set([...(names[existing] ?? []), ...tags])]
      }
    }
    const dest = /^(docker-archive|oci-archive|oci):/.test(args.output) ? args.output : `docker-archive:${args.output}`
    await exportImages(store, records, await openDestination(dest), names)
    out.info(`Saved ${records.length} image(s) to ${args.output}`)
  } finally {
    await store.close()
  }
}
