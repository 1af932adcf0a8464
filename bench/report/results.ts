import type { MethodResult } from '../context.js'
import type { BenchImage } from '../images/build.js'
import type { ProfileResult } from '../scenarios/profile.js'
import type { LinkResult } from '../scenarios/s2-link.js'
import type { FanoutResult } from '../scenarios/s3-fanout.js'
import type { UpdateResult } from '../scenarios/s4-update.js'
import type { ResumeResult } from '../scenarios/s5-resume.js'
import type { MemoryPoint } from '../scenarios/s6-memory.js'
import type { FirstChunkResult } from '../scenarios/s7-first-chunk.js'

/** Everything one bench run measured; written as docs/benchmarks.json. */
export interface Results {
  meta: {
    profile: 'quick' | 'full'
    started: string
    commit: string
    /** src/ or bin/ had uncommitted changes when the bench built. */
    dirty: boolean
    machine: { cpu: string; cores: number; memGiB: number; kernel: string; node: string }
    loadavgStart: number
    loadavgEnd: number
    durationS: number
    /** Later runs (`--merge`) whose scenarios replaced this run's. */
    merged?: Array<{ ran: string[]; profile: 'quick' | 'full'; started: string; commit: string; dirty: boolean; loadavgStart: number; loadavgEnd: number; durationS: number }>
  }
  images: Record<string, BenchImage>
  /** Scenario ids this run included. */
  ran: string[]
  s1?: { image: string; bytes: number; methods: MethodResult[] }
  s2?: LinkResult
  s3?: FanoutResult
  s4?: UpdateResult
  s5?: ResumeResult
  s6?: MemoryPoint[]
  s7?: FirstChunkResult
  profile?: ProfileResult
}
