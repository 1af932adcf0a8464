/**
 * Scenario 4: a receiver holding v1 receives v2, which differs in one
 * layer. Bytes are the verified chunk payload `receive --json` counts
 * (Merkle proofs and transport framing are not included).
 */
import { join } from 'node:path'
import type { Context } from '../context.js'
import type { BenchImage } from '../images/build.js'
import { receive, startShare } from '../lib/hypership.js'

export interface UpdateResult {
  from: string
  to: string
  changedLayerBytes: number
  /** Verified chunk bytes the v2 receive fetched (layer + config + manifest). */
  bytesReceived: number
  blobsFetched: number
  blobsSkipped: number
  ms: number
  ratio: number
}

async function shareAndReceive(ctx: Context, image: BenchImage, a: string, b: string) {
  const sharer = await startShare(a, [image.archive], ctx.dht)
  try {
    const r = await receive(b, sharer.key, ctx.dht)
    if (r.code !== 0 || !r.summary) throw new Error(`receive of ${image.name} exited ${r.code}: ${r.stderr.slice(-400)}`)
    return { ...r, summary: r.summary }
  } finally {
    await sharer.proc.stop()
  }
}

export async function runUpdate(ctx: Context, v1: BenchImage, v2: BenchImage): Promise<UpdateResult> {
  const a = join(ctx.workDir, 's4-a')
  const b = join(ctx.workDir, 's4-b')
  await shareAndReceive(ctx, v1, a, b)
  const r = await shareAndReceive(ctx, v2, a, b)
  const v1Layers = new Set(v1.layers.map((l) => l.diffId))
  const changed = v2.layers.filter((l) => !v1Layers.has(l.diffId))
  if (changed.length !== 1) throw new Error(`v2 should differ from v1 in one layer, not ${changed.length}`)
  const changedLayerBytes = changed[0]!.size
  const result = {
    from: v1.name,
    to: v2.name,
    changedLayerBytes,
    bytesReceived: r.summary.bytesReceived,
    blobsFetched: r.summary.blobsFetched,
    blobsSkipped: r.summary.blobsSkipped,
    ms: r.ms,
    ratio: r.summary.bytesReceived / changedLayerBytes
  }
  ctx.log(`  v2 after v1: ${result.bytesReceived} bytes for a ${changedLayerBytes}-byte layer (×${result.ratio.toFixed(4)})`)
  return result
}
