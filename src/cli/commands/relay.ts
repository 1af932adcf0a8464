import type { ArgumentsCamelCase, Argv } from 'yargs'
import { encodePeerId, loadIdentity } from '../../p2p/identity.js'
import { startRelay } from '../../p2p/relay.js'
import { type GlobalArgs, type NetworkArgs, networkOf, openStore, untilSignal, withNetwork } from '../context.js'
import { out } from '../output.js'

type Args = GlobalArgs & NetworkArgs

export const command = 'relay'
export const describe = 'Run a blind relay for peers that cannot hole-punch; prints the key they pass as --relay'

export function builder(y: Argv): Argv<Args> {
  return withNetwork(y) as unknown as Argv<Args>
}

export async function handler(args: ArgumentsCamelCase<Args>): Promise<void> {
  // the store's identity is the relay's key, so it survives restarts
  const store = await openStore(args)
  try {
    const { relay: _ignored, ...network } = networkOf(args)
    const node = await startRelay({ ...network, keyPair: await loadIdentity(store.layout.root) })
    out.result(encodePeerId(node.publicKey))
    out.info('Blind relay running; peers pass --relay with this key. It forwards encrypted traffic only. Ctrl-C to stop.')
    await untilSignal()
    await node.close()
  } finally {
    await store.close()
  }
}
