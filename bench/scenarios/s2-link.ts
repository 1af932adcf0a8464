/**
 * Scenario 2: two hosts in network namespaces joined by a veth pair capped
 * at 1 Gbit/s with tc. Link utilisation of hypership's receive phase, of a
 * raw hypercore and of one TCP connection over the same link. The DHT runs
 * in A on A's veth address; no packet leaves the two namespaces.
 */
import { mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Context } from '../context.js'
import type { BenchImage } from '../images/build.js'
import { fastPathShare, receive, startDht, startShare } from '../lib/hypership.js'
import { linkedPair } from '../lib/netns.js'
import { Proc } from '../lib/proc.js'
import { MiB, type Summary, mibps, summarize } from '../lib/stats.js'

const RATE_MBIT = 1000

export interface LinkResult {
  image: string
  rateMbit: number
  linkMiBps: number
  /** MiB/s by method: hypership receive phase, raw hypercore, TCP. */
  mibps: Record<string, Summary>
  /** Per repeat: the share of hypership's chunk bytes that went over the TCP fast path. */
  fastPathShare?: number[]
  error?: string
}

const peer = (name: string) => fileURLToPath(new URL(`../peers/${name}.js`, import.meta.url))

export async function runLink(ctx: Context, image: BenchImage): Promise<LinkResult> {
  const linkMiBps = (RATE_MBIT * 1e6) / 8 / MiB
  const values: Record<string, number[]> = { 'hypership receive': [], 'raw hypercore': [], 'TCP copy': [] }
  const fastPath: number[] = []
  const result = (error?: string): LinkResult => ({
    image: image.name,
    rateMbit: RATE_MBIT,
    linkMiBps,
    mibps: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, summarize(v)])),
    fastPathShare: fastPath,
    ...(error ? { error } : {})
  })
  const pair = await linkedPair(`hsb${process.pid}`, process.pid % 250, RATE_MBIT)
  const procs: Proc[] = []
  try {
    const dht = await startDht(pair.a.ip, pair.a.ns)
    procs.push(dht.proc)
    for (let r = 0; r < ctx.profile.linkRepeats; r++) {
      const dir = join(ctx.workDir, `s2-${r}`)
      await mkdir(dir, { recursive: true })
      try {
        const sharer = await startShare(join(dir, 'a'), [image.archive], dht.address, undefined, pair.a.ns)
        try {
          const recv = await receive(join(dir, 'b'), sharer.key, dht.address, { ns: pair.b.ns })
          if (recv.code !== 0) throw new Error(`receive in ${pair.b.ns} exited ${recv.code}: ${recv.stderr.slice(-400)}`)
          values['hypership receive']!.push(mibps(image.imageSize, recv.ms))
          fastPath.push(fastPathShare(recv.summary))
        } finally {
          await sharer.proc.stop()
        }

        const seeder = new Proc('ip', ['netns', 'exec', pair.a.ns, process.execPath, peer('hypercore-peer'), 'seed', image.archive, join(dir, 'seed'), dht.address])
        try {
          const key = (await seeder.waitLine(() => true, 300_000)).line.trim()
          const fetch = new Proc('ip', ['netns', 'exec', pair.b.ns, process.execPath, peer('hypercore-peer'), 'fetch', key, join(dir, 'fetch'), dht.address])
          await fetch.waitLine(() => true, 600_000)
          const exit = await fetch.exited
          values['raw hypercore']!.push(mibps(image.archiveSize, exit.at - fetch.started))
        } finally {
          await seeder.stop()
        }

        const env = { BENCH_TCP_HOST: pair.a.ip }
        const server = new Proc('ip', ['netns', 'exec', pair.a.ns, process.execPath, peer('tcp-peer'), 'serve', image.archive], env)
        try {
          const port = (await server.waitLine(() => true, 30_000)).line.trim()
          const client = new Proc('ip', ['netns', 'exec', pair.b.ns, process.execPath, peer('tcp-peer'), 'fetch', port], env)
          await client.waitLine(() => true, 600_000)
          const exit = await client.exited
          values['TCP copy']!.push(mibps(image.archiveSize, exit.at - client.started))
        } finally {
          await server.stop()
        }
        ctx.log(`  repeat ${r + 1}: ${Object.entries(values).map(([k, v]) => `${k} ${v[r]?.toFixed(1)} MiB/s`).join(', ')}`)
      } finally {
        await rm(dir, { recursive: true, force: true })
      }
    }
    return result()
  } catch (err) {
    ctx.log(`  scenario 2 failed: ${(err as Error).message}`)
    return result((err as Error).message)
  } finally {
    for (const p of procs) await p.stop()
    await pair.destroy()
  }
}
