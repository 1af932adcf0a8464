import { readFile, readdir } from 'node:fs/promises'
import { join } from 'node:path'

/** Self time of one function or one package in a V8 CPU profile. */
export interface Hotspot {
  name: string
  selfMs: number
  share: number
}

export interface ProfileSummary {
  totalMs: number
  /** Samples in no JS or native frame: the process was waiting. */
  idleShare: number
  functions: Hotspot[]
  packages: Hotspot[]
}

interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number } }>
  samples: number[]
  timeDeltas: number[]
}

/** Where a frame's code lives: an npm package, node itself, ours, or a V8 pseudo-frame. */
function packageOf(url: string, fn: string): string {
  if (!url) return fn.startsWith('(') ? fn : '(native)'
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)
  if (nm) return nm[1]!
  if (url.startsWith('node:')) return 'node:' + (url.slice(5).split('/')[1] ?? url.slice(5))
  const ours = /\/dist\/(src\/[^/]+)/.exec(url)
  return ours ? `hypership ${ours[1]}` : url
}

/** Reads the one .cpuprofile in `dir` and ranks self time by function and by package. */
export async function summarizeProfile(dir: string, top = 12): Promise<ProfileSummary> {
  const file = (await readdir(dir)).find((f) => f.endsWith('.cpuprofile'))
  if (!file) throw new Error(`no .cpuprofile in ${dir}`)
  const profile = JSON.parse(await readFile(join(dir, file), 'utf8')) as CpuProfile
  const byId = new Map(profile.nodes.map((n) => [n.id, n.callFrame]))
  const fns = new Map<string, number>()
  const pkgs = new Map<string, number>()
  let total = 0
  let idle = 0
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0
    const frame = byId.get(id)
    if (!frame) return
    total += us
    if (frame.functionName === '(idle)') idle += us
    const where = frame.url ? `${frame.url.replace(/^.*\/(node_modules|dist)\//, '')}:${frame.lineNumber + 1}` : ''
    const name = `${frame.functionName || '(anonymous)'}${where ? ` ${where}` : ''}`
    fns.set(name, (fns.get(name) ?? 0) + us)
    const pkg = packageOf(frame.url, frame.functionName)
    pkgs.set(pkg, (pkgs.get(pkg) ?? 0) + us)
  })
  const rank = (m: Map<string, number>): Hotspot[] =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, selfMs: us / 1000, share: total ? us / total : 0 }))
  return { totalMs: total / 1000, idleShare: total ? idle / total : 0, functions: rank(fns), packages: rank(pkgs) }
}
