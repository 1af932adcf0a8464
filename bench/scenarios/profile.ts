/**
 * Where the time goes: the import (`hypership load` of the archive, what
 * `share ARCHIVE` does first) and one transfer of the main image, each with
 * `node --cpu-prof`. The sharer serves the image already in its store, so
 * its profile is seeding only.
 */
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { Context } from '../context.js'
import type { BenchImage } from '../images/build.js'
import { type ProfileSummary, summarizeProfile } from '../lib/cpuprofile.js'
import { hypershipOnce, receive, startShare } from '../lib/hypership.js'
import { MiB, mibps } from '../lib/stats.js'

export interface ProfileResult {
  image: string
  receiveMs: number
  receiveMiBps: number
  /** CPU seconds / wall seconds of each process over the transfer. */
  receiverCpuShare: number
  sharerCpuSeconds: number
  importMs: number
  /** Import, receiver and sharer: CPU seconds by thread and bytes written to storage. */
  usage: Record<'import' | 'receiver' | 'sharer', { cpuSeconds: number; threads: Record<string, number>; writtenMiB: number }>
  import: ProfileSummary
  receiver: ProfileSummary
  sharer: ProfileSummary
}

export async function runProfile(ctx: Context, image: BenchImage): Promise<ProfileResult> {
  const a = join(ctx.workDir, 'prof-a')
  const profA = join(ctx.workDir, 'prof-sharer')
  const profB = join(ctx.workDir, 'prof-receiver')
  const profL = join(ctx.workDir, 'prof-import')
  for (const d of [profA, profB, profL]) await mkdir(d, { recursive: true })
  const load = await hypershipOnce(['load', '-q', '--store', a, '-i', image.archive], profL)
  const sharer = await startShare(a, [image.name], ctx.dht, profA)
  let r
  try {
    r = await receive(join(ctx.workDir, 'prof-b'), sharer.key, ctx.dht, { profileDir: profB })
    if (r.code !== 0) throw new Error(`profiled receive exited ${r.code}: ${r.stderr.slice(-400)}`)
  } finally {
    await sharer.proc.stop()
  }
  const result = {
    image: image.name,
    receiveMs: r.ms,
    receiveMiBps: mibps(image.imageSize, r.ms),
    receiverCpuShare: r.cpuSeconds / (r.ms / 1000),
    sharerCpuSeconds: sharer.proc.usage.cpuSeconds,
    importMs: load.ms,
    usage: {
      import: { cpuSeconds: load.usage.cpuSeconds, threads: load.usage.threads, writtenMiB: load.usage.writeBytes / MiB },
      receiver: { cpuSeconds: r.cpuSeconds, threads: r.threads, writtenMiB: r.writeBytes / MiB },
      sharer: { cpuSeconds: sharer.proc.usage.cpuSeconds, threads: sharer.proc.usage.threads, writtenMiB: sharer.proc.usage.writeBytes / MiB }
    },
    import: await summarizeProfile(profL),
    receiver: await summarizeProfile(profB),
    sharer: await summarizeProfile(profA)
  }
  ctx.log(`  profiled receive ${result.receiveMiBps.toFixed(1)} MiB/s, receiver CPU ${(result.receiverCpuShare * 100).toFixed(0)}%`)
  return result
}
