import type { ArgumentsCamelCase, Argv } from 'yargs'
import { ErrorCodes, HypershipError } from '../../errors.js'
import { familiarName, parseReference } from '../../image/reference.js'
import { type VerifyReport, verifyImages } from '../../ops/verify.js'
import { type GlobalArgs, withStore } from '../context.js'
import { out } from '../output.js'

interface Args extends GlobalArgs {
  images: string[]
  json?: boolean
}

export const command = 'verify [images..]'
export const describe = 'Re-check every chunk, blob and diff_id of stored images (all by default)'

export function builder(y: Argv): Argv<Args> {
  return y
    .positional('images', { type: 'string', array: true, default: [], describe: 'NAME[:TAG] or digest' })
    .option('json', { type: 'boolean', describe: 'one JSON report per image' }) as unknown as Argv<Args>
}

export async function handler(args: ArgumentsCamelCase<Args>): Promise<void> {
  const reports = await withStore(args, {
    daemon: (client) => client.call<VerifyReport[]>('verify', { images: args.images }),
    local: (store) => verifyImages(store, args.images)
  })
  for (const r of reports) {
    if (args.json) {
      out.json(r)
      continue
    }
    const name = r.names.map((n) => familiarName(parseReference(n))).join(', ') || r.digest
    out.result(`${r.ok ? 'ok      ' : 'DAMAGED '} ${name}`)
    for (const p of r.problems) out.result(`         ${p}`)
  }
  const bad = reports.filter((r) => !r.ok).length
  if (bad > 0) throw new HypershipError(ErrorCodes.STORE_CORRUPT, `${bad} of ${reports.length} image(s) are damaged`)
  if (!args.json) out.info(`${reports.length} image(s) verified`)
}
