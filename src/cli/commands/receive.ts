import { mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { ArgumentsCamelCase, Argv } from 'yargs'
import { exportImages } from '../../copy/export.js'
import { familiarName, parseReference } from '../../image/reference.js'
import { receive } from '../../p2p/receive.js'
import { dockerSocket, loadArchive } from '../../transports/docker-daemon/engine.js'
import { openDestination } from '../../transports/location.js'
import { type GlobalArgs, type NetworkArgs, bootstrapOf, openStore, withNetwork } from '../context.js'
import { out } from '../output.js'
import { Progress } from '../progress.js'

interface Args extends GlobalArgs, NetworkArgs {
  key: string
  output?: string
  load?: boolean
  json?: boolean
  timeout: number
}

export const command = 'receive <key>'
export const describe = 'Fetch and verify the images shared under KEY into the store'

export function builder(y: Argv): Argv<Args> {
  return withNetwork(y)
    .positional('key', { type: 'string', describe: 'the share key the sharer printed' })
    .option('output', { alias: 'o', type: 'string', describe: 'also write a docker-archive to FILE (for docker load -i)' })
    .option('load', { type: 'boolean', describe: 'also load the images into Docker (DOCKER_HOST or the default socket)' })
    .option('json', { type: 'boolean', describe: 'print progress events and a summary as JSON lines' })
    .option('timeout', { type: 'number', default: 30, describe: 'seconds to look for a sharer (and to wait on a stalled chunk ×2)' }) as unknown as Argv<Args>
}

export async function handler(args: ArgumentsCamelCase<Args>): Promise<void> {
  const bootstrap = bootstrapOf(args)
  const store = await openStore(args)
  const progress = new Progress(args.json === true)
  try {
    const result = await receive(store, args.key, {
      bootstrap,
      findTimeout: args.timeout * 1000,
      stallTimeout: args.timeout * 2000,
      onEvent: (e) => progress.event(e)
    })
    progress.done()
    const names = result.images.flatMap((r) => r.tags.map((t) => familiarName(parseReference(t))))

    let archive = args.output
    if (args.load && !archive) {
      await mkdir(store.layout.tmp, { recursive: true })
      archive = join(store.layout.tmp, `load-${process.pid}.tar`)
    }
    if (archive) await exportImages(store, result.images, await openDestination(`docker-archive:${archive}`))
    let loaded: string[] = []
    try {
      if (args.load && archive) loaded = await loadArchive(archive, dockerSocket())
    } finally {
      if (args.load && !args.output && archive) await rm(archive, { force: true })
    }

    if (args.json) {
      out.json({
        type: 'summary',
        images: result.images.map((r) => ({ digest: r.digest, id: r.config, names: r.tags, size: r.size })),
        bytesReceived: result.bytesReceived,
        blobsFetched: result.blobsFetched,
        blobsSkipped: result.blobsSkipped,
        peers: result.peers,
        ...(args.output ? { output: args.output } : {}),
        ...(args.load ? { loaded } : {})
      })
      return
    }
    for (const r of result.images) out.result(`Received ${r.tags.length ? names.join(', ') : r.digest} (id ${r.config.slice(7, 19)})`)
    out.info(`${result.blobsFetched} blobs fetched (${result.bytesReceived} bytes), ${result.blobsSkipped} already held; every chunk and blob verified`)
    if (args.output) out.info(`Wrote ${args.output}`)
    for (const line of loaded) out.info(`Docker: ${line}`)
  } finally {
    progress.done()
    await store.close()
  }
}
