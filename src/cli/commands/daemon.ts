import type { ArgumentsCamelCase, Argv } from 'yargs'
import { DaemonClient } from '../../client/client.js'
import { Daemon } from '../../daemon/daemon.js'
import { ErrorCodes, HypershipError } from '../../errors.js'
import { type GlobalArgs, type NetworkArgs, networkOf, storeDir, untilSignal, withNetwork } from '../context.js'
import { out } from '../output.js'

interface Args extends GlobalArgs, NetworkArgs {
  action?: string
}

export const command = 'daemon [action]'
export const describe = 'Run the daemon in the foreground (seeds all shares; the CLI hands it work), or `daemon stop`'

export function builder(y: Argv): Argv<Args> {
  return withNetwork(y).positional('action', { type: 'string', choices: ['run', 'stop'], default: 'run' }) as unknown as Argv<Args>
}

export async function handler(args: ArgumentsCamelCase<Args>): Promise<void> {
  if (args.action === 'stop') {
    const client = await DaemonClient.connect(storeDir(args))
    if (!client) throw new HypershipError(ErrorCodes.NO_DAEMON, `no daemon is running for ${storeDir(args)}`)
    try {
      await client.call('stop', {})
    } finally {
      client.close()
    }
    out.info('daemon stopping')
    return
  }
  const daemon = await Daemon.start({ storeDir: storeDir(args), ...networkOf(args) })
  const shares = daemon.status().shares
  out.result(daemon.socketPath)
  out.info(`hypership daemon ready: seeding ${shares.length} share(s), control socket ${daemon.socketPath}`)
  await Promise.race([untilSignal(), daemon.stopped()])
  out.info('daemon stopping')
  await daemon.close()
}
