import type { ArgumentsCamelCase, Argv } from 'yargs'
import { familiarName, parseReference } from '../../image/reference.js'
import { ErrorCodes, HypershipError } from '../../errors.js'
import { type ShareResult, rotateShare, shareImages } from '../../ops/share.js'
import { loadIdentity } from '../../p2p/identity.js'
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
  allow?: string
  rotate?: string
  json?: boolean
}

export const command = 'share [sources..]'
export const describe = 'Share images: prints the share key, then seeds until Ctrl-C (or hands them to the daemon)'

export function builder(y: Argv): Argv<Args> {
  return withEngine(withNetwork(y))
    .positional('sources', {
      type: 'string',
      array: true,
      describe: 'images: NAME[:TAG] (the store, else Docker), docker-daemon:NAME[:TAG], docker-archive:PATH, oci-archive:PATH, oci:DIR[:REF], or a path'
    })
    .option('json', { type: 'boolean', describe: 'print {"key", "images"} as JSON instead of the bare key' })
    .option('add', { type: 'string', describe: 'add the images to an existing share of this store (its key); with --allow alone, change who may fetch it' })
    .option('allow', { type: 'string', describe: 'only these peers may fetch the share: ID,… as `hypership id` prints them (`*`: anyone with the key)' })
    .option('rotate', { type: 'string', describe: 'replace a share of this store by a new key with the same images (and allow list); the old key is no longer served' })
    .check((a) => {
      if (a.rotate && (a.add || (a.sources as string[] | undefined)?.length)) throw new HypershipError(ErrorCodes.BAD_REFERENCE, '--rotate KEY takes no images and no --add')
      if (!a.rotate && !(a.sources as string[] | undefined)?.length && !(a.add && a.allow)) {
        throw new HypershipError(ErrorCodes.BAD_REFERENCE, 'name the images to share (or use --add KEY --allow …, or --rotate KEY)')
      }
      return true
    }) as unknown as Argv<Args>
}

function request(args: Args, sources: string[]): { sources: string[]; add?: string; allow?: string[]; rotate?: string } {
  return {
    sources,
    ...(args.add ? { add: args.add } : {}),
    ...(args.allow !== undefined ? { allow: [args.allow] } : {}),
    ...(args.rotate ? { rotate: args.rotate } : {})
  }
}

export async function handler(args: ArgumentsCamelCase<Args>): Promise<void> {
  const network = networkOf(args)
  // only a name missing from the store needs the engine
  const dockerHost = dockerHostOf(args, false)
  const client = await DaemonClient.connect(storeDir(args))
  if (client) {
    try {
      const sources = await Promise.all((args.sources ?? []).map(absoluteLocation))
      const shared = await client.call<ShareResult>('share', { ...request(args, sources), ...(dockerHost ? { dockerHost } : {}) })
      report(shared, args.json === true)
      out.info('The daemon seeds it; `hypership status` shows peers and traffic.')
    } finally {
      client.close()
    }
    return
  }

  const store = await openStore(args)
  try {
    const swarm = await openSwarm({ ...network, keyPair: await loadIdentity(store.layout.root) })
    const seeder = new Seeder(store, swarm)
    try {
      const r = request(args, args.sources ?? [])
      const shared = r.rotate
        ? await rotateShare(store, seeder, r.rotate, r.allow)
        : await shareImages(store, seeder, r.sources, {
            ...(r.add ? { add: r.add } : {}),
            ...(r.allow ? { allow: r.allow } : {}),
            ...(dockerHost ? { dockerHost } : {})
          })
      report(shared, args.json === true)
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

function report(shared: ShareResult, json: boolean): void {
  if (json) {
    const images = shared.images.map((r: ImageRecord) => ({ digest: r.digest, id: r.config, names: r.tags, size: r.size }))
    out.json({ key: shared.key, images, allow: shared.allow, ...(shared.replaced ? { replaced: shared.replaced } : {}) })
  } else {
    out.result(shared.key)
  }
  if (shared.replaced) out.info(`${shared.replaced} is no longer served here; receivers that hold it keep what they have`)
  out.info(shared.allow ? `Only these peers may fetch it: ${shared.allow.join(', ')}` : 'Anyone with the key may fetch it')
  const names = shared.images.flatMap((r) => (r.tags.length ? r.tags.map((t) => familiarName(parseReference(t))) : [r.digest]))
  if (names.length) out.info(`Sharing ${names.join(', ')}`)
  out.info(`On the other machine run:  hypership receive ${shared.key}`)
}
