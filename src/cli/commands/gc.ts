import type { ArgumentsCamelCase, Argv } from 'yargs'
import { type GcReport, collectGarbage } from '../../ops/gc.js'
import { type GlobalArgs, withStore } from '../context.js'
import { out } from '../output.js'

export const command = ['gc', 'prune']
export const describe = 'Reclaim space: unused blobs, partial downloads and leftovers'

export function builder(y: Argv): Argv<GlobalArgs> {
  return y
}

export async function handler(args: ArgumentsCamelCase<GlobalArgs>): Promise<void> {
  const r = await withStore(args, {
    daemon: (client) => client.call<GcReport>('gc', {}),
    local: (store) => collectGarbage(store)
  })
  out.result(`removed ${r.blobs} unused blob(s) and ${r.cores} core(s)`)
}
