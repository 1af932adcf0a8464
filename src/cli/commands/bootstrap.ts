import type { ArgumentsCamelCase, Argv } from 'yargs'
import { ErrorCodes, HypershipError } from '../../errors.js'
import { startBootstrap } from '../../p2p/swarm.js'
import { type GlobalArgs, numberIn, untilSignal } from '../context.js'
import { out } from '../output.js'

interface Args extends GlobalArgs {
  host: string
  port: number
  nodes: number
}

export const command = 'bootstrap'
export const describe = 'Run a DHT bootstrap node (for offline networks and tests); prints HOST:PORT'

export function builder(y: Argv): Argv<Args> {
  return y
    .option('host', { type: 'string', default: '127.0.0.1', describe: 'address to listen on' })
    .option('port', { type: 'number', default: 0, describe: 'UDP port (0 picks a free one)', coerce: numberIn('--port', 0, 65535, true) })
    .option('nodes', {
      type: 'number',
      default: 3,
      coerce: numberIn('--nodes', 2, 64, true),
      describe: 'DHT nodes to run (2–64); peers behind NAT need at least 4 to sample their NAT and hole-punch'
    }) as unknown as Argv<Args>
}

export async function handler(args: ArgumentsCamelCase<Args>): Promise<void> {
  const node = await startBootstrap(args.host, args.port, args.nodes)
  out.result(`${node.host}:${node.port}`)
  out.info('DHT bootstrap node running; pass --bootstrap to other hypership commands. Ctrl-C to stop.')
  await untilSignal()
  await node.close()
}
