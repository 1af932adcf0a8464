import type { ArgumentsCamelCase, Argv } from 'yargs'
import { DaemonClient } from '../../client/client.js'
import type { DaemonStatus } from '../../daemon/daemon.js'
import { ErrorCodes, HypershipError } from '../../errors.js'
import { familiarName, parseReference } from '../../image/reference.js'
import { type GlobalArgs, storeDir } from '../context.js'
import { humanSize, out, table } from '../output.js'

interface Args extends GlobalArgs {
  json?: boolean
}

export const command = 'status'
export const describe = "Show the daemon's shares, peers and transfer rates"

export function builder(y: Argv): Argv<Args> {
  return y.option('json', { type: 'boolean', describe: 'print the status as JSON' }) as unknown as Argv<Args>
}

export async function handler(args: ArgumentsCamelCase<Args>): Promise<void> {
  const client = await DaemonClient.connect(storeDir(args))
  if (!client) throw new HypershipError(ErrorCodes.NO_DAEMON, `no daemon is running for ${storeDir(args)} (start one with: hypership daemon)`)
  let s: DaemonStatus
  try {
    s = await client.call<DaemonStatus>('status', {})
  } finally {
    client.close()
  }
  if (args.json) return out.json(s)
  out.result(`daemon pid ${s.pid}, up since ${s.startedAt}, store ${s.store}`)
  out.result(`identity: ${s.id}`)
  out.result(`peers connected: ${s.connections}`)
  out.result(
    `traffic: up ${humanSize(s.uploadedBytes)} (${humanSize(s.uploadRate)}/s), down ${humanSize(s.downloadedBytes)} (${humanSize(s.downloadRate)}/s)`
  )
  const { lan, transports } = s.network
  out.result(lan ? `lan: DHT node ${lan.bootstrap}, ${lan.nodes.length} other node(s) on the LAN` : 'lan: discovery off')
  out.result(`replication streams: ${transports.tcp} over the LAN fast path, ${transports.swarm} over the swarm`)
  const rows = [['SHARE KEY', 'OWNER', 'ACCESS', 'BLOBS', 'IMAGES']]
  for (const sh of s.shares) {
    const names = sh.images.flatMap((i) => i.names.map((n) => familiarName(parseReference(n))))
    rows.push([sh.key, sh.owned ? 'this store' : 'received', sh.allow ? `${sh.allow.length} peers` : 'anyone with the key', String(sh.blobs), names.join(', ') || '-'])
  }
  table(rows)
}
