import type { ArgumentsCamelCase, Argv } from 'yargs'
import { startBootstrap } from '../../p2p/swarm.js'
import { type GlobalArgs, untilSignal } from '../context.js'
import { out } from '../output.js'

interface Args extends GlobalArgs {
  host: string
  port: number
}

export const command = 'bootstrap'
export const describe = 'Run a DHT bootstrap node (for offline networks and tests); prints HOST:PORT'

export function builder(y: Argv): Argv<Args> {
  return y
    .option('host', { type: 'string', default: '127.0.0.1', describe: 'address to listen on' })
    .option('port', { type: 'number', default: 0, describe: 'UDP port (0 picks a free one)' }) as unknown as Argv<Args>
}

export async function handler(args: ArgumentsCamelCase<Args>): Promise<void> {
  const node = await startBootstrap(args.host, args.port)
  out.result(`${node.host}:${node.port}`)
  out.info('DHT bootstrap node running; pass --bootstrap to other hypership commands. Ctrl-C to stop.')
  await untilSignal()
  await node.close()
}
