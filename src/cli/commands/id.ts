import type { ArgumentsCamelCase, Argv } from 'yargs'
import { encodePeerId, loadIdentity } from '../../p2p/identity.js'
import { type GlobalArgs, withStore } from '../context.js'
import { out } from '../output.js'

interface Args extends GlobalArgs {
  json?: boolean
}

export const command = 'id'
export const describe = "Print this store's peer identity (what a sharer lists in `share --allow`)"

export function builder(y: Argv): Argv<Args> {
  return y.option('json', { type: 'boolean', describe: 'print {"id"} as JSON' }) as unknown as Argv<Args>
}

export async function handler(args: ArgumentsCamelCase<Args>): Promise<void> {
  const { id } = await withStore(args, {
    daemon: (client) => client.call<{ id: string }>('id', {}),
    local: async (store) => ({ id: encodePeerId((await loadIdentity(store.layout.root)).publicKey) })
  })
  if (args.json) out.json({ id })
  else out.result(id)
}
