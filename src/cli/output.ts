// `hypership ls | head`: a reader that stops early is not an error
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0)
    throw err
  })
}

/**
 * The only place hypership writes to the terminal. Results go to stdout,
 * messages for people to stderr, so `KEY=$(hypership share …)` works.
 */
export const out = {
  /** A result line on stdout. */
  result(line: string): void {
    process.stdout.write(`${line}\n`)
  },
  /** A JSON value on one stdout line. */
  json(value: unknown): void {
    process.stdout.write(`${JSON.stringify(value)}\n`)
  },
  /** A message for a person on stderr. */
  info(line: string): void {
    process.stderr.write(`${line}\n`)
  },
  /** An error line on stderr. */
  error(line: string): void {
    process.stderr.write(`hypership: ${line}\n`)
  },
  /** True when stderr is a terminal a person watches. */
  get interactive(): boolean {
    return process.stderr.isTTY === true
  }
}

/** `1.5 MB`-style sizes, in powers of 1000 as `docker images` prints them. */
export function humanSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB']
  let n = bytes
  let i = 0
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000
    i++
  }
  return `${i === 0 ? n : n.toFixed(n < 10 ? 2 : 1)}${units[i]}`
}

/** Prints a table with columns padded like the docker CLI's. */
export function table(rows: string[][]): void {
  const widths: number[] = []
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)))
  for (const row of rows) {
    out.result(row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd((widths[i] ?? 0) + 3))).join('').trimEnd())
  }
}
