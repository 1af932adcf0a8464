import yargs from 'yargs'
import { ErrorCodes, HypershipError, asHypershipError } from '../errors.js'
import * as bootstrap from './commands/bootstrap.js'
import * as daemon from './commands/daemon.js'
import * as gc from './commands/gc.js'
import * as id from './commands/id.js'
import * as load from './commands/load.js'
import * as ls from './commands/ls.js'
import * as receive from './commands/receive.js'
import * as remote from './commands/remote.js'
import * as relay from './commands/relay.js'
import * as rm from './commands/rm.js'
import * as save from './commands/save.js'
import * as share from './commands/share.js'
import * as status from './commands/status.js'
import * as tag from './commands/tag.js'
import * as unshare from './commands/unshare.js'
import * as verify from './commands/verify.js'
import { out } from './output.js'

const ISSUES = 'https://github.com/hypership/hypership/issues/new'

/** Runs the CLI with `argv` (without node and script) and sets the exit code. */
export async function main(argv: string[]): Promise<void> {
  const verbose = argv.includes('--verbose') || argv.includes('-v')
  try {
    await yargs(argv)
      .scriptName('hypership')
      .usage('$0 <command> [options]\n\nMove Docker/OCI images between people over a peer-to-peer swarm.')
      .option('store', { type: 'string', describe: 'store directory (env HYPERSHIP_HOME)', global: true })
      .option('verbose', { alias: 'v', type: 'boolean', describe: 'print error details', global: true })
      .command(share)
      .command(unshare)
      .command(receive)
      .command(save)
      .command(load)
      .command(ls)
      .command(tag)
      .command(rm)
      .command(verify)
      .command(gc)
      .command(daemon)
      .command(remote)
      .command(status)
      .command(id)
      .command(bootstrap)
      .command(relay)
      .demandCommand(1, 'Name a command; see --help.')
      .strict()
      .recommendCommands()
      .fail((msg, err) => {
        // a yargs message (an unknown flag, a failed .check) is a usage error;
        // an error thrown by a command keeps its own code
        if (err instanceof HypershipError || (err && !msg)) throw err
        // yargs spreads some messages over lines; errors here are one line
        throw new HypershipError(ErrorCodes.BAD_REFERENCE, (msg ?? String(err)).replace(/\s*\n\s*/g, ' '))
      })
      .help()
      .version()
      .wrap(Math.min(100, process.stdout.columns || 100))
      .parseAsync()
  } catch (err) {
    process.exitCode = report(err, verbose)
  }
}

/** Prints one line for an error and returns the exit code. */
function report(err: unknown, verbose: boolean): number {
  // an operating-system error that escaped without context is still one line
  const sys = (err as { code?: unknown } | null)?.code
  if (typeof sys === 'string' && /^E[A-Z]+$/.test(sys)) err = asHypershipError(err)
  if (err instanceof HypershipError && err.code !== ErrorCodes.INTERNAL) {
    out.error(`${err.message} [${err.code}]`)
    if (verbose && err.cause) out.info(`caused by: ${(err.cause as Error).stack ?? String(err.cause)}`)
    return err.code === ErrorCodes.BAD_REFERENCE ? 2 : err.code === ErrorCodes.ABORTED ? 130 : 1
  }
  out.error(`internal error: ${(err as Error)?.message ?? String(err)} [${ErrorCodes.INTERNAL}]`)
  if (verbose && (err as Error)?.cause) out.info(`caused by: ${String(((err as Error).cause as Error)?.stack ?? (err as Error).cause)}`)
  out.info(verbose ? String((err as Error)?.stack) : `this is a bug; rerun with --verbose and report it at ${ISSUES}`)
  return 70
}
