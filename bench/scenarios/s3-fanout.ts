/**
 * Scenario 3: one sharer and 8 receivers, each in its own namespace behind
 * a 100 Mbit/s link (up and down) to a bridge. The time until the last
 * receiver holds the image, against one receiver alone, for hypership and
 * for the registry serving the same 8 (`skopeo copy` pulls). The image is
 * imported or pushed on the sharer first (not timed).
 */
import { mkdir, rm } from 'node:fs/promises'
import { loadavg } from 'node:os'
import { join } from 'node:path'
import type { Context } from '../context.js'
import type { BenchImage } from '../images/build.js'
import { receive, startDht, startShare } from '../lib/hypership.js'
import { star } from '../lib/netns.js'
import { type Proc, now, run } from '../lib/proc.js'
import { startRegistry } from '../lib/registry.js'

const RECEIVERS = 8
const RATE_MBIT = 100

export interface FanoutSide {
  singleMs: number
  /** ms from starting all receivers at once to each one finishing. */
  eachMs: number[]
  lastMs: number
  ratio: number
}

export interface FanoutResult {
  image: string
  imageBytes: number
  receivers: number
  rateMbit: number
  started: string
  loadavg: number
  hypership?: FanoutSide
  registry?: FanoutSide
  error?: string
}

export async function runFanout(ctx: Context, image: BenchImage): Promise<FanoutResult> {
  const result: FanoutResult = {
    image: image.name,
    imageBytes: image.imageSize,
    receivers: RECEIVERS,
    rateMbit: RATE_MBIT,
    started: new Date().toISOString(),
    loadavg: loadavg()[0]!
  }
  const net = await star(`hsb${process.pid}`, process.pid % 250, RECEIVERS + 1, RATE_MBIT)
  const [origin, ...rest] = net.hosts
  const procs: Proc[] = []
  const dir = join(ctx.workDir, 's3')
  try {
    await mkdir(dir, { recursive: true })
    const dht = await startDht(origin!.ip, origin!.ns)
    procs.push(dht.proc)

    const sharer = await startShare(join(dir, 'origin'), [image.archive], dht.address, undefined, origin!.ns)
    procs.push(sharer.proc)
    const fetchOne = async (i: number, tag: string) => {
      const r = await receive(join(dir, `${tag}-${i}`), sharer.key, dht.address, { ns: rest[i]!.ns })
      if (r.code !== 0) throw new Error(`receiver ${i} exited ${r.code}: ${r.stderr.slice(-300)}`)
      return r.ms
    }
    result.hypership = await side(ctx, 'hypership', () => fetchOne(0, 'single'), (i) => fetchOne(i, 'many'))
    await sharer.proc.stop()

    await mkdir(join(dir, 'registry'), { recursive: true })
    const reg = await startRegistry(join(dir, 'registry'), origin)
    try {
      const ref = `docker://${reg.address}/bench/debian:latest`
      const env = { TMPDIR: dir }
      await run('ip', ['netns', 'exec', origin!.ns, 'skopeo', 'copy', '-q', '--dest-tls-verify=false', `docker-archive:${image.archive}`, ref], { env })
      const pull = async (i: number, tag: string) => {
        const t0 = now()
        await run('ip', ['netns', 'exec', rest[i]!.ns, 'skopeo', 'copy', '-q', '--src-tls-verify=false', ref, `oci:${join(dir, `${tag}-oci-${i}`)}:latest`], { env })
        return now() - t0
      }
      result.registry = await side(ctx, 'registry', () => pull(0, 'single'), (i) => pull(i, 'many'))
    } finally {
      await reg.stop()
    }
    return result
  } catch (err) {
    ctx.log(`  scenario 3 failed: ${(err as Error).message}`)
    return { ...result, error: (err as Error).message }
  } finally {
    for (const p of procs.reverse()) await p.stop()
    await net.destroy()
    await rm(dir, { recursive: true, force: true })
  }
}

async function side(ctx: Context, name: string, single: () => Promise<number>, one: (i: number) => Promise<number>): Promise<FanoutSide> {
  const singleMs = await single()
  const eachMs = await Promise.all(Array.from({ length: RECEIVERS }, (_, i) => one(i)))
  const lastMs = Math.max(...eachMs)
  ctx.log(`  ${name}: one receiver ${(singleMs / 1000).toFixed(1)} s; ${RECEIVERS} at once, last done after ${(lastMs / 1000).toFixed(1)} s (×${(lastMs / singleMs).toFixed(2)})`)
  return { singleMs, eachMs, lastMs, ratio: lastMs / singleMs }
}
