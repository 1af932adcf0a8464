/**
 * `npm run bench [-- --quick] [-- --only s1,s4,…]`: builds the bench images,
 * measures hypership against the registry, docker save/load, raw hypercore
 * and raw TCP in one run, and writes docs/benchmarks.md, docs/benchmarks.json
 * and the charts under docs/benchmarks/. Everything runs on 127.0.0.1 with a
 * private DHT; nothing contacts the public one.
 */
import { execFileSync } from 'node:child_process'
import { cpus, loadavg, release, totalmem } from 'node:os'
import { mkdir, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startDockerd } from '../test/helpers/dockerd.js'
import { type Context, PROFILES } from './context.js'
import { type BenchImage, buildImage } from './images/build.js'
import { minbaseRootfs } from './images/rootfs.js'
import { startDht } from './lib/hypership.js'
import { now } from './lib/proc.js'
import { writeReport } from './report/markdown.js'
import type { Results } from './report/results.js'
import { runLoopback } from './scenarios/s1-loopback.js'
import { runLink } from './scenarios/s2-link.js'
import { runFanout } from './scenarios/s3-fanout.js'
import { runUpdate } from './scenarios/s4-update.js'
import { runResume } from './scenarios/s5-resume.js'
import { runMemory } from './scenarios/s6-memory.js'
import { firstChunk } from './scenarios/s7-first-chunk.js'
import { runProfile } from './scenarios/profile.js'

const REPO = fileURLToPath(new URL('../../', import.meta.url))
const ALL = ['s1', 's2', 's3', 's4', 's5', 's6', 'profile']
/** Scenario 3 alone takes 3–4 minutes (8 × 129 MiB through 100 Mbit/s links, twice). */
const QUICK = ALL.filter((s) => s !== 's3')

function parseArgs(argv: string[]): { quick: boolean; only: string[]; out: string; merge: boolean } {
  const quick = argv.includes('--quick')
  const onlyArg = argv.find((a) => a.startsWith('--only='))
  const outArg = argv.find((a) => a.startsWith('--out='))
  return {
    quick,
    only: onlyArg ? onlyArg.slice(7).split(',') : quick ? QUICK : ALL,
    out: outArg ? outArg.slice(6) : join(REPO, 'docs'),
    merge: argv.includes('--merge')
  }
}

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: REPO, encoding: 'utf8' }).trim()
  } catch {
    return 'unknown'
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2))
  const profile = PROFILES[args.quick ? 'quick' : 'full']
  const t0 = now()
  const log = (msg: string) => console.log(`[${((now() - t0) / 1000).toFixed(0).padStart(4)} s] ${msg}`)
  const cacheDir = join(REPO, '.cache', 'bench')
  const workDir = join(cacheDir, `run-${process.pid}`)
  await mkdir(workDir, { recursive: true })

  const results: Results = {
    meta: {
      profile: profile.name,
      started: new Date().toISOString(),
      commit: git(['rev-parse', '--short', 'HEAD']),
      dirty: git(['status', '--porcelain', '--', 'src', 'bin']) !== '',
      machine: {
        cpu: cpus()[0]?.model ?? 'unknown',
        cores: cpus().length,
        memGiB: Math.round(totalmem() / 2 ** 30),
        kernel: release(),
        node: process.version
      },
      loadavgStart: loadavg()[0]!,
      durationS: 0,
      loadavgEnd: 0
    },
    images: {},
    ran: args.only
  }

  const cleanups: Array<() => Promise<unknown>> = []
  try {
    log(`profile ${profile.name}: main image ${profile.mainMiB} MiB, ${profile.repeats} repeats; scratch ${workDir}`)
    const rootfs = await minbaseRootfs(cacheDir, log)
    const built = new Map<string, BenchImage>()
    const image = async (sizeMiB: number, version = 1) => {
      const key = `${sizeMiB}-${version}`
      if (!built.has(key)) {
        const t = now()
        const img = await buildImage(rootfs, cacheDir, sizeMiB, version)
        log(`image ${img.name}: ${(img.imageSize / 2 ** 20).toFixed(1)} MiB in ${img.layers.length} layers (${((now() - t) / 1000).toFixed(1)} s)`)
        built.set(key, img)
        results.images[img.name] = img
      }
      return built.get(key)!
    }

    const dht = await keepDht(log)
    cleanups.push(() => dht.stop())
    log(`private DHT on ${dht.address}`)
    const ctx: Context = { profile, cacheDir, workDir, dht: dht.address, rootfs, image, log }
    if (args.only.includes('s1')) {
      try {
        ctx.dockerd = await startDockerd()
        cleanups.push(() => ctx.dockerd!.stop())
        const load = await ctx.dockerd.docker(['load', '-q', '-i', (await image(profile.mainMiB)).archive])
        if (load.code !== 0) throw new Error(load.stderr)
      } catch (err) {
        log(`no private dockerd, docker baselines skipped: ${(err as Error).message}`)
        ctx.dockerd = undefined
      }
    }

    const main = await image(profile.mainMiB)
    if (args.only.includes('s1')) {
      log(`scenario 1: loopback, ${main.name}`)
      results.s1 = { image: main.name, bytes: main.imageSize, methods: await runLoopback(ctx, main) }
      results.s7 = firstChunk(results.s1.methods)
    }
    if (args.only.includes('s2')) {
      log('scenario 2: two network namespaces, veth capped at 1 Gbit/s')
      results.s2 = await runLink(ctx, main)
    }
    if (args.only.includes('s3')) {
      log('scenario 3: fan-out to 8 receivers behind 100 Mbit/s links')
      results.s3 = await runFanout(ctx, await image(PROFILES.quick.mainMiB))
    }
    if (args.only.includes('s4')) {
      log('scenario 4: update v1 → v2 (one changed layer)')
      results.s4 = await runUpdate(ctx, main, await image(profile.mainMiB, 2))
    }
    if (args.only.includes('s5')) {
      log('scenario 5: resume after kill -9 at half')
      results.s5 = await runResume(ctx, main)
    }
    if (args.only.includes('s6')) {
      log('scenario 6: peak RSS by image size')
      results.s6 = await runMemory(ctx, results.s1?.methods)
    }
    if (args.only.includes('profile')) {
      log('CPU profiles of sharer and receiver')
      results.profile = await runProfile(ctx, main)
    }
  } finally {
    for (const c of cleanups.reverse()) await c().catch((err: unknown) => log(`cleanup: ${(err as Error).message}`))
    await rm(workDir, { recursive: true, force: true })
  }

  results.meta.durationS = Math.round((now() - t0) / 1000)
  results.meta.loadavgEnd = loadavg()[0]!
  await writeReport(args.merge ? await mergeInto(join(args.out, 'benchmarks.json'), results) : results, args.out)
  log(`wrote ${join(args.out, 'benchmarks.md')} and benchmarks.json (${results.meta.durationS} s)`)
}

/**
 * The private DHT for the loopback scenarios. If its process dies (it has
 * been seen to vanish mid-run on a busy machine), it is restarted on the
 * same port so the address every scenario holds stays valid.
 */
async function keepDht(log: (msg: string) => void): Promise<{ address: string; stop(): Promise<void> }> {
  let stopping = false
  let current = await startDht('127.0.0.1')
  const address = current.address
  const port = address.slice(address.lastIndexOf(':') + 1)
  const watch = (proc: typeof current.proc): void => {
    void proc.exited.then(async ({ code, signal }) => {
      if (stopping) return
      log(`private DHT exited (code ${code}, signal ${signal}): ${proc.stderr.trim().slice(-300) || 'no stderr'}; restarting on port ${port}`)
      current = await startDht('127.0.0.1', undefined, port)
      watch(current.proc)
    })
  }
  watch(current.proc)
  return {
    address,
    stop: async () => {
      stopping = true
      await current.proc.stop()
    }
  }
}

/**
 * `--merge`: the scenarios of this run replace those in an earlier
 * results file; the rest, and the earlier run's metadata, stay. The report
 * names the merged run.
 */
async function mergeInto(file: string, fresh: Results): Promise<Results> {
  const old = JSON.parse(await readFile(file, 'utf8')) as Results
  const merged: Results = { ...old, images: { ...old.images, ...fresh.images }, ran: [...new Set([...old.ran, ...fresh.ran])] }
  for (const id of fresh.ran) {
    const key = id as keyof Results
    if (fresh[key] !== undefined) (merged as unknown as Record<string, unknown>)[key] = fresh[key]
  }
  if (fresh.s1) merged.s7 = fresh.s7
  const { profile, started, commit, dirty, loadavgStart, loadavgEnd, durationS } = fresh.meta
  merged.meta = { ...old.meta, merged: [...(old.meta.merged ?? []), { ran: fresh.ran, profile, started, commit, dirty, loadavgStart, loadavgEnd, durationS }] }
  return merged
}

main().catch((err: unknown) => {
  console.error(err)
  process.exitCode = 1
})
