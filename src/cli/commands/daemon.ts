import type { ArgumentsCamelCase, Argv } from 'yargs'
import { DaemonClient } from '../../client/client.js'
import { resolve } from 'node:path'
import { Daemon, type DaemonOptions, type RegistryConfig } from '../../daemon/daemon.js'
import { parseListen } from '../../registry/listen.js'
import { ErrorCodes, HypershipError } from '../../errors.js'
import { type GlobalArgs, type NetworkArgs, networkOf, numberIn, storeDir, untilSignal, withNetwork } from '../context.js'
import { out } from '../output.js'

interface Args extends GlobalArgs, NetworkArgs {
  action?: string
  registry?: string
  registryAuth?: string
  registryAuthFile?: string
  registryAnyHost?: boolean
  registryFindTimeout?: number
}

export const command = 'daemon [action]'
export const describe = 'Run the daemon in the foreground (seeds all shares; the CLI hands it work), or `daemon stop`'

export function builder(y: Argv): Argv<Args> {
  return withNetwork(y)
    .positional('action', { type: 'string', choices: ['run', 'stop'], default: 'run' })
    .option('registry', { type: 'string', describe: 'serve the OCI registry API on HOST:PORT (loopback only; docs/registry.md)' })
    .option('registry-auth', {
      type: 'string',
      describe: 'require this user:password (HTTP Basic; env HYPERSHIP_REGISTRY_AUTH)',
      default: process.env.HYPERSHIP_REGISTRY_AUTH || undefined,
      defaultDescription: '$HYPERSHIP_REGISTRY_AUTH or none'
    })
    .option('registry-auth-file', { type: 'string', describe: 'require a user:password from this file (one per line)' })
    .option('registry-find-timeout', { type: 'number', describe: 'seconds an alias pull looks for peers of its share', default: 30, coerce: numberIn('--registry-find-timeout', 1, 86400) })
    .option('registry-any-host', { type: 'boolean', describe: 'allow a non-loopback --registry address (plain HTTP!)' }) as unknown as Argv<Args>
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
  const options: DaemonOptions = { storeDir: storeDir(args), ...networkOf(args) }
  if (args.registry !== undefined) {
    const seconds = args.registryFindTimeout ?? 30
    if (!(seconds > 0)) throw new HypershipError(ErrorCodes.BAD_REFERENCE, '--registry-find-timeout must be a positive number of seconds')
    const registry: RegistryConfig = { listen: parseListen(args.registry, args.registryAnyHost ?? false), findTimeout: seconds * 1000 }
    if (args.registryAuthFile) registry.credentialsFile = resolve(args.registryAuthFile)
    else if (args.registryAuth !== undefined) registry.credentials = args.registryAuth
    options.registry = registry
  } else if (args.registryAuth !== undefined && process.env.HYPERSHIP_REGISTRY_AUTH === undefined) {
    throw new HypershipError(ErrorCodes.BAD_REFERENCE, '--registry-auth needs --registry HOST:PORT')
  }
  const daemon = await Daemon.start(options)
  const status = daemon.status()
  out.result(daemon.socketPath)
  if (status.registry) out.result(`registry ${status.registry}`)
  out.info(`hypership daemon ready: seeding ${status.shares.length} share(s), control socket ${daemon.socketPath}${status.registry ? `, registry ${status.registry}` : ''}`)
  await Promise.race([untilSignal(), daemon.stopped()])
  out.info('daemon stopping')
  await daemon.close()
}
