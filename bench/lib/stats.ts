/** Median and spread of repeated measurements. */
export interface Summary {
  median: number
  min: number
  max: number
  n: number
  values: number[]
}

/** Summarises repeated values; an empty list gives NaNs and n = 0. */
export function summarize(values: number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b)
  const n = sorted.length
  if (n === 0) return { median: NaN, min: NaN, max: NaN, n, values }
  const mid = Math.floor(n / 2)
  const median = n % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
  return { median, min: sorted[0]!, max: sorted[n - 1]!, n, values }
}

export const MiB = 1 << 20

/** MiB per second for `bytes` moved in `ms`. */
export function mibps(bytes: number, ms: number): number {
  return bytes / MiB / (ms / 1000)
}
