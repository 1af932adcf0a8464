/**
 * Scenario 7: from spawning `hypership receive` to its first progress event
 * (the first chunk verified against its core's Merkle tree), over every
 * hypership run of scenario 1. Includes Node start-up, the DHT lookup, the
 * connection handshake and reading the catalog.
 */
import type { MethodResult } from '../context.js'
import { type Summary, summarize } from '../lib/stats.js'

export interface FirstChunkResult {
  firstChunkMs: Summary
  catalogMs: Summary
}

export function firstChunk(methods: MethodResult[]): FirstChunkResult {
  const samples = methods.filter((m) => m.group === 'hypership').flatMap((m) => m.samples)
  return {
    firstChunkMs: summarize(samples.flatMap((s) => (s.firstChunkMs === undefined ? [] : [s.firstChunkMs]))),
    catalogMs: summarize(samples.flatMap((s) => (s.catalogMs === undefined ? [] : [s.catalogMs])))
  }
}
