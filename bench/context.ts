import type { Dockerd } from '../test/helpers/dockerd.js'
import type { BenchImage } from './images/build.js'
import type { Summary } from './lib/stats.js'

/** Sizes and repeat counts of one bench run. */
export interface Profile {
  name: 'quick' | 'full'
  /** Image for scenarios 1, 4, 5 and 7, MiB. */
  mainMiB: number
  /** Images whose peak RSS scenario 6 reports, MiB. */
  memoryMiB: number[]
  repeats: number
  /** Repeats of scenario 2 (each moves the image three ways over the capped link). */
  linkRepeats: number
}

export const PROFILES: Record<Profile['name'], Profile> = {
  quick: { name: 'quick', mainMiB: 128, memoryMiB: [128, 1024], repeats: 2, linkRepeats: 1 },
  full: { name: 'full', mainMiB: 1024, memoryMiB: [128, 1024, 2048], repeats: 3, linkRepeats: 2 }
}

/** What every scenario gets. */
export interface Context {
  profile: Profile
  /** Cache of the rootfs and built images (kept between runs). */
  cacheDir: string
  /** Scratch for this run (deleted at the end). */
  workDir: string
  /** HOST:PORT of the private DHT (`hypership bootstrap` on 127.0.0.1). */
  dht: string
  rootfs: string
  image(sizeMiB: number, version?: number): Promise<BenchImage>
  /** A private dockerd, when one could be started. */
  dockerd?: Dockerd
  log(msg: string): void
}

/** One measured transfer. */
export interface Sample {
  ms: number
  bytes: number
  phases?: Record<string, number>
  peakRssMiB?: Record<string, number>
  cpuSeconds?: Record<string, number>
  /** MiB each process wrote to storage (/proc/PID/io write_bytes). */
  writtenMiB?: Record<string, number>
  firstChunkMs?: number
  catalogMs?: number
  /** hypership only: the receive command alone, spawn to exit. */
  receiveMs?: number
  /** hypership only: the share of chunk bytes that came over the TCP fast path rather than the swarm's UDX. */
  fastPathShare?: number
}

/** Repeated samples of one method, summarised. */
export interface MethodResult {
  id: string
  label: string
  /** What "done" means for this method. */
  done: string
  group: 'hypership' | 'baseline' | 'floor' | 'ceiling'
  ms: Summary
  mibps: Summary
  receiveMs: Summary
  phases: Record<string, Summary>
  peakRssMiB: Record<string, Summary>
  cpuSeconds: Record<string, Summary>
  writtenMiB: Record<string, Summary>
  samples: Sample[]
  error?: string
}
