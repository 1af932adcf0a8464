import type { ArgumentsCamelCase, Argv } from 'yargs'
import { addRemote, readRemotes, removeRemote } from '../../p2p/remotes.js'
import { type GlobalArgs, openStore } from '../context.js'
import { out, table } from '../output.js'

interface Args extends GlobalArgs {
  action: string
  alias?: string
  key?: string
}

export const command = 'remote <action> [alias] [key]'
export const describe = 'Name a share key (remote add ALIAS KEY), so the registry endpoint serves ALIAS/NAME:TAG from it; remote ls, remote rm ALIAS'

export function builder(y: Argv): Argv<Args> {
  return y
    .positional('action', { type: 'string', choices: ['add', 'ls', 'rm'] })
    .positional('alias', { type: 'string', describe: 'a lowercase name, the first part of registry names' })
    .positional('key', { type: 'string', describe: 'the share key' })
    .option('json', { type: 'boolean', describe: 'ls: one JSON object {alias: key}' })
    .check((a) => {
      if (a.action === 'add' && (!a.alias || !a.key)) throw new Error('remote add needs ALIAS and KEY')
      if (a.action === 'rm' && !a.alias) throw new Error('remote rm needs ALIAS')
      return true
    }) as unknown as Argv<Args>
}

export async function handler(args: ArgumentsCamelCase<Args>): Promise<void> {
  // remotes.json is read afresh on every pull, so a running daemon sees changes at once
  const store = await openStore(args, { blobs: false })
  try {
    if (args.action === 'add') {
      const before = await addRemote(store.layout, args.alias!, args.key!)
      out.info(`${args.alias} → ${args.key}${before ? ` (was ${before}; images pulled through it before stay in the store under ${args.alias}/…)` : ''}; pull ${args.alias}/NAME:TAG from the registry endpoint`)
    } else if (args.action === 'rm') {
      await removeRemote(store.layout, args.alias!)
    } else {
      const remotes = await readRemotes(store.layout)
      if (args.json) out.json(remotes)
      else table([['ALIAS', 'SHARE KEY'], ...Object.entries(remotes).map(([a, k]) => [a, k])])
    }
  } finally {
    await store.close()
  }
}
