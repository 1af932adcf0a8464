import type { ArgumentsCamelCase, Argv } from 'yargs'
import { type GlobalArgs, openStore } from '../context.js'

interface Args extends GlobalArgs {
  source: string
  target: string
}

export const command = 'tag <source> <target>'
export const describe = 'Give a stored image another name (like docker tag)'

export function builder(y: Argv): Argv<Args> {
  return y
    .positional('source', { type: 'string', describe: 'NAME[:TAG] or digest' })
    .positional('target', { type: 'string', describe: 'NAME[:TAG]' }) as unknown as Argv<Args>
}

export async function handler(args: ArgumentsCamelCase<Args>): Promise<void> {
  const store = await openStore(args, { blobs: false })
  try {
    await store.tag(args.source, args.target)
  } finally {
    await store.close()
  }
}
