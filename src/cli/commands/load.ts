import { access } from 'node:fs/promises'
import { resolve } from 'node:path'
import type { ArgumentsCamelCase, Argv } from 'yargs'
import { wrap } from '../../errors.js'
import { familiarName, parseReference } from '../../image/reference.js'
import { type GlobalArgs, openStore } from '../context.js'
import { out } from '../output.js'
import { storedImages } from '../sources.js'

interface Args extends GlobalArgs {
  input: string
  quiet?: boolean
}

export const command = 'load'
export const describe = 'Load images from a docker-archive, oci-archive or OCI layout, verifying everything first'

export function builder(y: Argv): Argv<Args> {
  return y
    .option('input', { alias: 'i', type: 'string', demandOption: true, describe: 'archive file or layout (a bare path is sniffed)' })
    .option('quiet', { alias: 'q', type: 'boolean', describe: 'print nothing on success' }) as unknown as Argv<Args>
}

export async function handler(args: ArgumentsCamelCase<Args>): Promise<void> {
  const store = await openStore(args)
  try {
    // -i always names a file or folder, never a stored image
    const prefixed = /^(docker-archive|oci-archive|oci):/.test(args.input)
    if (!prefixed) await access(args.input).catch((err) => { throw wrap(err, `reading ${args.input}`) })
    const records = await storedImages(store, prefixed ? args.input : resolve(args.input))
    if (args.quiet) return
    for (const rec of records) {
      if (rec.tags.length === 0) out.result(`Loaded image ID: ${rec.config}`)
      for (const tag of rec.tags) out.result(`Loaded image: ${familiarName(parseReference(tag))}`)
    }
  } finally {
    await store.close()
  }
}
