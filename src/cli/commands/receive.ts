import type { ArgumentsCamelCase, Argv } from 'yargs'
import { ErrorCodes, HypershipError } from '../../errors.js'
import { familiarName, parseReference } from '../../image/reference.js'
import { loadIntoDocker, saveImages } from '../../ops/images.js'
import type { ImageRecord } from '../../store/image-db.js'
import { type ReceiveEvent, type ReceiveResult, receive } from '../../p2p/receive.js'
import {
  type EngineArgs,
  type GlobalArgs,
  type NetworkArgs,
  absoluteDestination,
  isOwnStdout,
  pathForDaemon,
  dockerHostOf,
  networkOf,
  numberIn,
  untilSignal,
  withEngine,
  withNetwork,
  withStore
} from '../context.js'
import { out } from '../output.js'
import { Progress } from '../progress.js'

interface Args extends GlobalArgs, NetworkArgs, EngineArgs {
  key: string
  output?: string
  load?: boolean
  json?: boolean
  timeout: number
}

export const command = 'receive <key>'
export const describe = 'Fetch and verify the images shared under KEY into the store'

export function builder(y: Argv): Argv<Args> {
  return withEngine(withNetwork(y))
    .positional('key', { type: 'string', describe: 'the share key the sharer printed' })
    .option('output', { alias: 'o', type: 'string', describe: 'also write a docker-archive to FILE (for docker load -i)' })
    .option('load', { type: 'boolean', describe: 'also load the images into Docker (--docker-host, DOCKER_HOST or the default socket)' })
    .option('json', { type: 'boolean', describe: 'print progress events and a summary as JSON lines' })
    .option('timeout', { type: 'number', default: 30, describe: 'seconds to look for a sharer (a chunk may stall twice as long)', coerce: numberIn('--timeout', 1, 86400) }) as unknown as Argv<Args>
}

export async function handler(args: ArgumentsCamelCase<Args>): Promise<void> {
  const network = networkOf(args)
  const progress = new Progress(args.json === true)
  const timeouts = { findTimeout: args.timeout * 1000, stallTimeout: args.timeout * 2000 }
  const onEvent = (e: ReceiveEvent) => progress.event(e)
  const output = args.output === undefined ? undefined : await absoluteDestination(args.output)
  if (output && isOwnStdout(output)) {
    throw new HypershipError(
      ErrorCodes.BAD_REFERENCE,
      `-o ${args.output} is this command's standard output, which carries receive's own messages; give a file, or receive and then \`hypership save IMAGE -o ${args.output}\``
    )
  }
  const dockerHost = args.load ? dockerHostOf(args) : undefined

  // Ctrl-C cancels: the local receive stops at once, a daemon's when the
  // connection goes; either way what arrived is kept for the next run
  const cancel = new AbortController()
  const orCancelled = (err: unknown): never => {
    throw cancel.signal.aborted ? new HypershipError(ErrorCodes.ABORTED, 'receive cancelled; what arrived is kept, run it again to resume') : err
  }
  void untilSignal().then(() => cancel.abort())

  let loaded: string[] = []
  const result = await withStore(args, {
    daemon: async (client) => {
      // checked before anything is fetched: the daemon writes the file
      const daemonOutput = output && pathForDaemon(output, 'output')
      cancel.signal.addEventListener('abort', () => client.close())
      const r = await client.call<ReceiveResult>('receive', { key: args.key, ...timeouts }, (e) => onEvent(e as ReceiveEvent)).catch(orCancelled)
      progress.done()
      const digests = r.images.map((i) => i.digest)
      if (daemonOutput) await client.call('save', { images: namesOf(r.images), output: daemonOutput })
      if (dockerHost) loaded = await client.call<string[]>('docker-load', { images: digests, dockerHost })
      return r
    },
    local: async (store) => {
      const r = await receive(store, args.key, { ...network, ...timeouts, onEvent, signal: cancel.signal }).catch(orCancelled)
      progress.done()
      if (output) await saveImages(store, namesOf(r.images), output)
      if (dockerHost) loaded = await loadIntoDocker(store, r.images, dockerHost)
      return r
    }
  })
    .catch((err: unknown) => {
      // scripts reading --json learn how it ended from the stream too
      if (args.json) out.json({ type: 'error', code: (err as { code?: string }).code ?? ErrorCodes.INTERNAL, message: (err as Error).message })
      throw err
    })
    .finally(() => progress.done())

  if (args.json) {
    out.json({
      type: 'summary',
      images: result.images.map((r) => ({ digest: r.digest, id: r.config, names: r.tags, size: r.size })),
      bytesReceived: result.bytesReceived,
      bytesHashed: result.bytesHashed,
      blobsFetched: result.blobsFetched,
      blobsSkipped: result.blobsSkipped,
      peers: result.peers,
      bytesByPeer: result.bytesByPeer,
      bytesByTransport: result.bytesByTransport,
      ...(args.output ? { output: args.output } : {}),
      ...(args.load ? { loaded } : {})
    })
    return
  }
  for (const r of result.images) {
    const names = r.tags.map((t) => familiarName(parseReference(t)))
    out.result(`Received ${names.length ? names.join(', ') : r.digest} (id ${r.config.slice(7, 19)})`)
  }
  out.info(
    `${result.blobsFetched} blobs fetched (${result.bytesReceived} bytes from ${result.peers.length} peer(s)), ${result.blobsSkipped} already held; every chunk and blob verified`
  )
  if (args.output) out.info(`Wrote ${args.output}`)
  for (const line of loaded) out.info(`Docker: ${line}`)
}

/** What to save for received images: every tag they came with, or the ID of an untagged one. */
function namesOf(images: ImageRecord[]): string[] {
  return images.flatMap((i) => (i.tags.length ? i.tags : [i.digest]))
}
