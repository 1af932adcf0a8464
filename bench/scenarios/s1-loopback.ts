/**
 * Scenario 1: one sharer, one receiver, loopback, uncapped. Every method
 * moves the same image from "on A" to "usable on B"; the methods take turns
 * within each repeat so background load hits them alike.
 */
import { copyFile, mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Context, MethodResult, Sample } from '../context.js'
import type { BenchImage } from '../images/build.js'
import { fastPathShare, receive, startShare } from '../lib/hypership.js'
import { Proc, now, run } from '../lib/proc.js'
import { startRegistry } from '../lib/registry.js'
import { MiB, type Summary, mibps, summarize } from '../lib/stats.js'

interface Method {
  id: string
  label: string
  done: string
  group: MethodResult['group']
  needsDocker?: boolean
  run(ctx: Context, image: BenchImage, dir: string): Promise<Sample>
}

const peer = (name: string) => fileURLToPath(new URL(`../peers/${name}.js`, import.meta.url))

/** share (imports the archive) → receive into a second store; optionally -o or --load. */
function hypershipMethod(id: string, label: string, done: string, mode: 'store' | 'file' | 'docker'): Method {
  return {
    id,
    label,
    done,
    group: 'hypership',
    needsDocker: mode === 'docker',
    async run(ctx, image, dir) {
      if (mode === 'docker') await ctx.dockerd!.docker(['rmi', image.name])
      const t0 = now()
      const sharer = await startShare(join(dir, 'a'), [image.archive], ctx.dht)
      try {
        const tShared = now()
        const r = await receive(join(dir, 'b'), sharer.key, ctx.dht, {
          output: mode === 'file' ? join(dir, 'out.tar') : undefined,
          load: mode === 'docker',
          env: mode === 'docker' ? { DOCKER_HOST: ctx.dockerd!.host } : {}
        })
        const t1 = now()
        if (r.code !== 0 || !r.summary) throw new Error(`receive exited ${r.code}: ${r.stderr.slice(-400)}`)
        if (r.summary.images[0]?.id !== image.configDigest) throw new Error(`received image id ${r.summary.images[0]?.id}, want ${image.configDigest}`)
        if (mode === 'docker') await expectInDocker(ctx, image)
        return {
          ms: t1 - t0,
          bytes: image.imageSize,
          receiveMs: r.ms,
          phases: {
            'share: import + announce': tShared - t0,
            'receive: start, find peer, catalog': r.catalogMs ?? NaN,
            'receive: chunks + verify': (r.lastVerifiedMs ?? NaN) - (r.catalogMs ?? NaN),
            [`receive: commit${mode === 'file' ? ' + write file' : mode === 'docker' ? ' + docker load' : ''} + exit`]: r.ms - (r.lastVerifiedMs ?? NaN)
          },
          peakRssMiB: { sharer: sharer.proc.usage.peakRssMiB, receiver: r.peakRssMiB },
          cpuSeconds: { sharer: sharer.proc.usage.cpuSeconds, receiver: r.cpuSeconds },
          writtenMiB: { sharer: sharer.proc.usage.writeBytes / MiB, receiver: r.writeBytes / MiB },
          firstChunkMs: r.firstChunkMs,
          catalogMs: r.catalogMs,
          fastPathShare: fastPathShare(r.summary)
        }
      } finally {
        await sharer.proc.stop()
      }
    }
  }
}

async function expectInDocker(ctx: Context, image: BenchImage): Promise<void> {
  const res = await ctx.dockerd!.docker(['image', 'inspect', '--format', '{{.Id}}', image.name])
  if (res.stdout.trim() !== image.configDigest) throw new Error(`docker has ${image.name} as ${res.stdout.trim() || res.stderr.trim()}`)
}

const registry: Method = {
  id: 'registry',
  label: 'registry: skopeo push + pull',
  done: 'in an OCI layout on B',
  group: 'baseline',
  async run(ctx, image, dir) {
    await mkdir(join(dir, 'registry'), { recursive: true })
    const reg = await startRegistry(join(dir, 'registry'))
    const env = { TMPDIR: dir }
    const ref = `docker://${reg.address}/bench/debian:latest`
    try {
      const t0 = now()
      await run('skopeo', ['copy', '-q', '--dest-tls-verify=false', `docker-archive:${image.archive}`, ref], { env })
      const t1 = now()
      await run('skopeo', ['copy', '-q', '--src-tls-verify=false', ref, `oci:${join(dir, 'oci')}:latest`], { env })
      const t2 = now()
      // skopeo rewrites the config on push (its digest changes), so compare the layers' diff_ids
      const config = JSON.parse((await run('skopeo', ['inspect', '--config', `oci:${join(dir, 'oci')}:latest`])).stdout) as { rootfs: { diff_ids: string[] } }
      const want = image.layers.map((l) => l.diffId).join()
      if (config.rootfs.diff_ids.join() !== want) throw new Error(`pulled image has layers ${config.rootfs.diff_ids.join()}, want ${want}`)
      return { ms: t2 - t0, bytes: image.imageSize, phases: { 'push (gzip + upload)': t1 - t0, pull: t2 - t1 } }
    } finally {
      await reg.stop()
    }
  }
}

const dockerSaveLoad: Method = {
  id: 'docker',
  label: 'docker save → cp → docker load',
  done: 'in dockerd on B (vfs)',
  group: 'baseline',
  needsDocker: true,
  async run(ctx, image, dir) {
    const d = ctx.dockerd!
    const a = join(dir, 'a.tar')
    const b = join(dir, 'b.tar')
    await expectInDocker(ctx, image)
    const t0 = now()
    const save = await d.docker(['save', '-o', a, image.name])
    if (save.code !== 0) throw new Error(`docker save: ${save.stderr}`)
    const t1 = now()
    // B's daemon must not hold the image; with one daemon, remove it (not timed)
    await d.docker(['rmi', image.name])
    const t2 = now()
    await copyFile(a, b)
    const t3 = now()
    const load = await d.docker(['load', '-q', '-i', b])
    if (load.code !== 0) throw new Error(`docker load: ${load.stderr}`)
    const t4 = now()
    await expectInDocker(ctx, image)
    return { ms: t1 - t0 + (t4 - t2), bytes: image.imageSize, phases: { save: t1 - t0, cp: t3 - t2, load: t4 - t3 } }
  }
}

const hypercoreFloor: Method = {
  id: 'hypercore',
  label: 'raw hypercore over hyperswarm',
  done: 'every block on B (no image logic)',
  group: 'floor',
  async run(ctx, image, dir) {
    // appending the file to the seeder's core is setup, not timed
    const seeder = new Proc(process.execPath, [peer('hypercore-peer'), 'seed', image.archive, join(dir, 'seed'), ctx.dht])
    try {
      const key = (await seeder.waitLine(() => true, 300_000)).line.trim()
      const fetch = new Proc(process.execPath, [peer('hypercore-peer'), 'fetch', key, join(dir, 'fetch'), ctx.dht])
      const { line } = await fetch.waitLine(() => true, 600_000)
      const exit = await fetch.exited
      const { bytes } = JSON.parse(line) as { bytes: number }
      if (bytes !== image.archiveSize) throw new Error(`hypercore floor moved ${bytes} bytes, want ${image.archiveSize}`)
      return {
        ms: exit.at - fetch.started,
        bytes,
        peakRssMiB: { sharer: seeder.usage.peakRssMiB, receiver: fetch.usage.peakRssMiB },
        cpuSeconds: { receiver: fetch.usage.cpuSeconds }
      }
    } finally {
      await seeder.stop()
    }
  }
}

/** Raw TCP on loopback: `out` false discards, true also writes a file and hashes. */
function tcpCeiling(withWriteAndHash: boolean): Method {
  return {
    id: withWriteAndHash ? 'tcp-sha256-write' : 'tcp',
    label: withWriteAndHash ? 'TCP loopback + sha256 + write' : 'TCP loopback copy',
    done: withWriteAndHash ? 'file on B, hashed' : 'bytes read on B',
    group: 'ceiling',
    async run(_ctx, image, dir) {
      const server = new Proc(process.execPath, [peer('tcp-peer'), 'serve', image.archive])
      try {
        const port = (await server.waitLine(() => true, 30_000)).line.trim()
        const args = [peer('tcp-peer'), 'fetch', port, ...(withWriteAndHash ? [join(dir, 'copy.tar')] : [])]
        const client = new Proc(process.execPath, args)
        const { line } = await client.waitLine(() => true, 600_000)
        const exit = await client.exited
        const { bytes } = JSON.parse(line) as { bytes: number }
        if (bytes !== image.archiveSize) throw new Error(`TCP moved ${bytes} bytes, want ${image.archiveSize}`)
        return { ms: exit.at - client.started, bytes }
      } finally {
        await server.stop()
      }
    }
  }
}

const sha256Ceiling: Method = {
  id: 'sha256',
  label: 'sha256 of the archive (one process)',
  done: 'digest computed',
  group: 'ceiling',
  async run(_ctx, image) {
    const res = await run(process.execPath, ['-e', SHA_SCRIPT, image.archive])
    return { ms: Number(res.stdout.trim()), bytes: image.archiveSize }
  }
}

const SHA_SCRIPT = `
const { createHash } = require('node:crypto'); const { createReadStream } = require('node:fs')
const t0 = performance.now(); const h = createHash('sha256')
createReadStream(process.argv[1], { highWaterMark: 1 << 20 }).on('data', (c) => h.update(c)).on('end', () => { h.digest(); console.log(performance.now() - t0) })
`

export const METHODS: Method[] = [
  hypershipMethod('hypership', 'hypership share → receive', 'in B’s hypership store', 'store'),
  hypershipMethod('hypership-o', 'hypership share → receive -o', 'docker-archive file on B', 'file'),
  hypershipMethod('hypership-load', 'hypership share → receive --load', 'in dockerd on B (vfs)', 'docker'),
  registry,
  dockerSaveLoad,
  hypercoreFloor,
  tcpCeiling(false),
  tcpCeiling(true),
  sha256Ceiling
]

/** Runs every method `repeats` times, interleaved, on `image`. */
export async function runLoopback(ctx: Context, image: BenchImage): Promise<MethodResult[]> {
  const methods = METHODS.filter((m) => !m.needsDocker || ctx.dockerd)
  const samples = new Map<string, Sample[]>(methods.map((m) => [m.id, []]))
  const errors = new Map<string, string>()
  for (let r = 0; r < ctx.profile.repeats; r++) {
    for (const m of methods) {
      if (errors.has(m.id)) continue
      const dir = join(ctx.workDir, `s1-${m.id}-${r}`)
      await mkdir(dir, { recursive: true })
      try {
        const s = await m.run(ctx, image, dir)
        samples.get(m.id)!.push(s)
        ctx.log(`  ${m.label}: ${(s.ms / 1000).toFixed(2)} s, ${mibps(s.bytes, s.ms).toFixed(1)} MiB/s`)
      } catch (err) {
        errors.set(m.id, (err as Error).message)
        ctx.log(`  ${m.label}: FAILED ${(err as Error).message}`)
      } finally {
        await rm(dir, { recursive: true, force: true })
      }
    }
  }
  const skipped = METHODS.filter((m) => !methods.includes(m))
  return [
    ...methods.map((m) => summarizeMethod(m, samples.get(m.id)!, errors.get(m.id))),
    ...skipped.map((m) => summarizeMethod(m, [], 'not measured: no private dockerd could be started'))
  ]
}

function summarizeMethod(m: Method, samples: Sample[], error?: string): MethodResult {
  const keyed = (pick: (s: Sample) => Record<string, number> | undefined): Record<string, Summary> => {
    const out: Record<string, number[]> = {}
    for (const s of samples) for (const [k, v] of Object.entries(pick(s) ?? {})) (out[k] ??= []).push(v)
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, summarize(v)]))
  }
  return {
    id: m.id,
    label: m.label,
    done: m.done,
    group: m.group,
    ms: summarize(samples.map((s) => s.ms)),
    mibps: summarize(samples.map((s) => mibps(s.bytes, s.ms))),
    receiveMs: summarize(samples.flatMap((s) => (s.receiveMs === undefined ? [] : [s.receiveMs]))),
    phases: keyed((s) => s.phases),
    peakRssMiB: keyed((s) => s.peakRssMiB),
    cpuSeconds: keyed((s) => s.cpuSeconds),
    writtenMiB: keyed((s) => s.writtenMiB),
    samples,
    ...(error ? { error } : {})
  }
}
