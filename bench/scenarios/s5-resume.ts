/**
 * Scenario 5: the receiver is killed with SIGKILL once about half the image
 * has arrived, then run again. Between the runs the bench counts the blocks
 * the store holds (bench/peers/held-bytes); the second run's summary says
 * how much it fetched.
 */
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Context } from '../context.js'
import type { BenchImage } from '../images/build.js'
import { receive, startShare } from '../lib/hypership.js'
import { run } from '../lib/proc.js'
import { MiB } from '../lib/stats.js'

export interface ResumeResult {
  image: string
  imageBytes: number
  /** Progress the first run reported last before it was killed. */
  killedAtBytes: number
  /** Blocks the store held after the kill, counted one by one. */
  heldBytes: number
  /** What the second run's blob events reported as held (contiguous prefixes only). */
  reportedHeldBytes: number
  missingBytes: number
  refetchedBytes: number
  blobsFetched: number
  /** Bytes the second run read back and hashed (every blob it fetched, whole). */
  rehashedBytes: number
  /** Of those, bytes the first run had fetched already: what resuming hashes twice. */
  rehashedHeldBytes: number
  /** Target: missing + one chunk per fetched blob. */
  allowanceBytes: number
  secondRunMs: number
  firstRunMs: number
}

export async function runResume(ctx: Context, image: BenchImage): Promise<ResumeResult> {
  const a = join(ctx.workDir, 's5-a')
  const b = join(ctx.workDir, 's5-b')
  const sharer = await startShare(a, [image.archive], ctx.dht)
  try {
    const first = await receive(b, sharer.key, ctx.dht, { killAtBytes: image.imageSize / 2 })
    if (first.signal !== 'SIGKILL') throw new Error(`the first receive was not killed (exit ${first.code}); the image came in too fast`)
    const held = JSON.parse((await run(process.execPath, [fileURLToPath(new URL('../peers/held-bytes.js', import.meta.url)), b, a])).stdout) as { heldBytes: number }
    const second = await receive(b, sharer.key, ctx.dht)
    if (second.code !== 0 || !second.summary) throw new Error(`resumed receive exited ${second.code}: ${second.stderr.slice(-400)}`)
    const missingBytes = image.imageSize - held.heldBytes
    const result: ResumeResult = {
      image: image.name,
      imageBytes: image.imageSize,
      killedAtBytes: first.lastProgressBytes,
      heldBytes: held.heldBytes,
      reportedHeldBytes: Math.round(second.heldBytes),
      missingBytes,
      refetchedBytes: second.summary.bytesReceived,
      blobsFetched: second.summary.blobsFetched,
      rehashedBytes: second.summary.bytesHashed ?? Number.NaN,
      rehashedHeldBytes: Math.max(0, (second.summary.bytesHashed ?? Number.NaN) - second.summary.bytesReceived),
      allowanceBytes: missingBytes + second.summary.blobsFetched * MiB,
      secondRunMs: second.ms,
      firstRunMs: first.ms
    }
    ctx.log(`  killed at ${result.killedAtBytes}, held ${result.heldBytes}, fetched again ${result.refetchedBytes} (missing ${missingBytes}), hashed ${result.rehashedBytes} (${result.rehashedHeldBytes} held before)`)
    return result
  } finally {
    await sharer.proc.stop()
  }
}
