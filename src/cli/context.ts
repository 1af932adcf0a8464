import type { Argv } from 'yargs'
import { parseBootstrap } from '../p2p/swarm.js'
import { defaultStoreDir } from '../store/paths.js'
import { type OpenOptions, Store } from '../store/store.js'

/** Flags every command takes. */
export interface GlobalArgs {
  store?: string
  verbose?: boolean
  json?: boolean
}

/** Flags every networked command takes. */
export interface NetworkArgs {
  bootstrap?: string
}

/** Opens the store the flags point at; caller must close it. */
export function openStore(args: GlobalArgs, options?: OpenOptions): Promise<Store> {
  return Store.open(args.store ?? defaultStoreDir(), options)
}

/** Adds `--bootstrap` (default from HYPERSHIP_BOOTSTRAP). */
export function withNetwork<T>(y: Argv<T>): Argv<T & NetworkArgs> {
  return y.option('bootstrap', {
    type: 'string',
    describe: 'DHT bootstrap nodes HOST:PORT[,…]; only these are contacted (env HYPERSHIP_BOOTSTRAP)',
    default: process.env.HYPERSHIP_BOOTSTRAP || undefined,
    defaultDescription: '$HYPERSHIP_BOOTSTRAP or the public DHT'
  }) as Argv<T & NetworkArgs>
}

/** The bootstrap list from the flags, checked. */
export function bootstrapOf(args: NetworkArgs): string[] | undefined {
  return parseBootstrap(args.bootstrap)
}

/** Resolves on the first SIGINT or SIGTERM. */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (sig: NodeJS.Signals) => {
      process.off('SIGINT', on)
      process.off('SIGTERM', on)
      resolve(sig)
    }
    process.on('SIGINT', on)
    process.on('SIGTERM', on)
  })
}
