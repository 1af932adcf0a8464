import type { ArgumentsCamelCase, Argv } from 'yargs'
import { familiarName, parseReference } from '../../image/reference.js'
import { Seeder } from '../../p2p/seeder.js'
import { Share } from '../../p2p/share.js'
import { createSwarm } from '../../p2p/swarm.js'
import { type GlobalArgs, type NetworkArgs, bootstrapOf, openStore, untilSignal, withNetwork } from '../context.js'
import { out } from '../output.js'
import { storedImages } from '../sources.js'

interface Args extends GlobalArgs, NetworkArgs {
  sources: string[]
  add?: string
}

export const command = 'share <sources..>'
export const describe = 'Share images: prints the share key, then seeds until Ctrl-C'

export function builder(y: Argv): Argv<Args> {
  return withNetwork(y)
    .positional('sources', {
      type: 'string',
      array: true,
      describe: 'images: NAME[:TAG] in the store, docker-archive:PATH, oci-archive:PATH, oci:DIR[:REF], or a path'
    })
    .option('json', { type: 'boolean', describe: 'print {"key", "images"} as JSON instead of the bare key' })
    .option('add', { type: 'string', describe: 'add the images to an existing share of this store (its key)' }) as unknown as Argv<Args>
}

export async function handler(args: ArgumentsCamelCase<Args>): Promise<void> {
  const bootstrap = bootstrapOf(args)
  const store = await openStore(args)
  try {
    const records = []
    for (const source of args.sources) records.push(...(await storedImages(store, source)))
    const share = args.add ? await Share.open(store, args.add) : await Share.create(store)
    await share.publish(records)

    const swarm = createSwarm({ bootstrap })
    const seeder = new Seeder(store, swarm)
    try {
      await seeder.seed(share.catalog)
      const names = records.flatMap((r) => (r.tags.length ? r.tags.map((t) => familiarName(parseReference(t))) : [r.digest]))
      if (args.json) {
        out.json({ key: share.record.key, images: records.map((r) => ({ digest: r.digest, id: r.config, names: r.tags, size: r.size })) })
      } else {
        out.result(share.record.key)
      }
      out.info(`Sharing ${names.join(', ')}`)
      out.info(`On the other machine run:  hypership receive ${share.record.key}`)
      out.info('Seeding until Ctrl-C.')
      await untilSignal()
      out.info('Stopping…')
    } finally {
      await seeder.close()
      await swarm.destroy()
    }
  } finally {
    await store.close()
  }
}
