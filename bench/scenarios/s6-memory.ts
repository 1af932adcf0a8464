/**
 * Scenario 6: peak RSS (kernel VmHWM) of the sharer (which imports the
 * archive first) and of the receiver, by image size. Sizes scenario 1
 * already moved reuse its hypership runs.
 */
import { join } from 'node:path'
import type { Context, MethodResult } from '../context.js'
import { receive, startShare } from '../lib/hypership.js'
import { mibps } from '../lib/stats.js'

export interface MemoryPoint {
  sizeMiB: number
  imageBytes: number
  sharerPeakMiB: number
  receiverPeakMiB: number
  /** How many runs the peaks are the maximum of. */
  runs: number
  receiveMiBps?: number
}

export async function runMemory(ctx: Context, s1?: MethodResult[]): Promise<MemoryPoint[]> {
  const points: MemoryPoint[] = []
  for (const sizeMiB of ctx.profile.memoryMiB) {
    const image = await ctx.image(sizeMiB)
    const fromS1 = sizeMiB === ctx.profile.mainMiB ? s1?.find((m) => m.id === 'hypership' && m.samples.length > 0) : undefined
    if (fromS1) {
      points.push({
        sizeMiB,
        imageBytes: image.imageSize,
        sharerPeakMiB: fromS1.peakRssMiB.sharer!.max,
        receiverPeakMiB: fromS1.peakRssMiB.receiver!.max,
        runs: fromS1.samples.length,
        receiveMiBps: mibps(image.imageSize, fromS1.receiveMs.median)
      })
      continue
    }
    const sharer = await startShare(join(ctx.workDir, `s6-${sizeMiB}-a`), [image.archive], ctx.dht)
    try {
      const r = await receive(join(ctx.workDir, `s6-${sizeMiB}-b`), sharer.key, ctx.dht)
      if (r.code !== 0) throw new Error(`receive of ${image.name} exited ${r.code}: ${r.stderr.slice(-400)}`)
      await sharer.proc.stop()
      points.push({
        sizeMiB,
        imageBytes: image.imageSize,
        sharerPeakMiB: sharer.proc.usage.peakRssMiB,
        receiverPeakMiB: r.peakRssMiB,
        runs: 1,
        receiveMiBps: mibps(image.imageSize, r.ms)
      })
    } finally {
      await sharer.proc.stop()
    }
    const p = points[points.length - 1]!
    ctx.log(`  ${sizeMiB} MiB: sharer ${p.sharerPeakMiB.toFixed(0)} MiB, receiver ${p.receiverPeakMiB.toFixed(0)} MiB`)
  }
  return points
}
