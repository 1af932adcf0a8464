import type { ArgumentsCamelCase, Argv } from 'yargs'
import { familiarName, parseReference } from '../../image/reference.js'
import { shareImages } from '../../ops/share.js'
import { Seeder } from '../../p2p/seeder.js'
import { openSwarm } from '../../p2p/swarm.js'
import type { ImageRecord } from '../../store/image-db.js'
import { DaemonClient } from '../../client/client.js'
import {
  type EngineArgs,
  type GlobalArgs,
  type NetworkArgs,
  absoluteLocation,
  dockerHostOf,
  networkOf,
  openStore,
  storeDir,
  untilSignal,
  withEngine,
  withNetwork
} from '../context.js'
import { out } from '../output.js'

interface Args extends GlobalArgs, NetworkArgs, EngineArgs {
  sources: string[]
  add?: string
  json?: boolean
}

export const command = 'share <sources..>'
export const describe = 'Share images: prints the share key, then seeds until Ctrl-C (or hands them to the daemon)'

export function builder(y: Argv): Argv<Args> {
  return withEngine(withNetwork(y))
    .positional('sources', {
      type: 'string',
      array: true,
      describe: 'images: NAME[:TAG] (the store, else Docker), docker-daemon:NAME[:TAG], docker-archive:PATH, oci-archive:PATH, oci:DIR[:REF], or a path'
    })
    .option('json', { type: 'boolean', describe: 'print {"key", "images"} as JSON instead of the bare key' })
    .option('add', { type: 'string', describe: 'add the images to an existing share of this store (its key)' }) as unknown as Argv<Args>
}

export async function handler(args: ArgumentsCamelCase<Args>): Promise<void> {
  const network = networkOf(args)
  // only a name missing from the store needs the engine
  const dockerHost = dockerHostOf(args, false)
  const client = await DaemonClient.connect(storeDir(args))
  if (client) {
    try {
      const sources = await Promise.all(args.sources.map(absoluteLocation))
      const shared = await client.call<{ key: string; images: ImageRecord[] }>('share', { sources, dockerHost, ...(args.add ? { add: args.add } : {}) })
      report(shared, args.json === true)
      out.info('The daemon seeds it; `hypership status` shows peers and traffic.')
    } finally {
      client.close()
    }
    return
  }

  const store = await openStore(args)
  try {
    const swarm = await openSwarm(network)
    const seeder = new Seeder(store, swarm)
    try {
      report(await shareImages(store, seeder, args.sources, args.add, { dockerHost }), args.json === true)
      out.info('Seeding until Ctrl-C (run `hypership daemon` to keep seeding in the background).')
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

function report(shared: { key: string; images: ImageRecord[] }, json: boolean): void {
  if (json) {
    out.json({ key: shared.key, images: shared.images.map((r) => ({ digest: r.digest, id: r.config, names: r.tags, size: r.size })) })
  } else {
    out.result(shared.key)
  }
  const names = shared.images.flatMap((r) => (r.tags.length ? r.tags.map((t) => familiarName(parseReference(t))) : [r.digest]))
  out.info(`Sharing ${names.join(', ')}`)
  out.info(`On the other machine run:  hypership receive ${shared.key}`)
}
