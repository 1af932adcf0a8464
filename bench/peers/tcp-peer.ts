/**
 * The physical ceiling: the same bytes over one loopback TCP connection.
 *
 *   node tcp-peer.js serve FILE             prints the port, sends FILE to each client, until SIGTERM
 *   node tcp-peer.js fetch PORT [OUT]       reads everything; with OUT also writes it and hashes it (sha256);
 *                                           prints {"ms","bytes","sha256"}
 *
 * BENCH_TCP_HOST sets the address to listen on / connect to (default 127.0.0.1).
 */
import { createHash } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { connect, createServer } from 'node:net'
import { performance } from 'node:perf_hooks'
import { Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'

const [mode, arg, out] = process.argv.slice(2)
const host = process.env.BENCH_TCP_HOST ?? '127.0.0.1'
if (!mode || !arg) throw new Error('usage: tcp-peer serve FILE | fetch PORT [OUT]')

if (mode === 'serve') {
  const server = createServer((sock) => {
    pipeline(createReadStream(arg, { highWaterMark: 1 << 20 }), sock).catch(() => sock.destroy())
  })
  server.listen(0, host, () => process.stdout.write(`${(server.address() as { port: number }).port}\n`))
  // an idle keep-alive socket would hold server.close() open; just go
  process.once('SIGTERM', () => process.exit(0))
} else {
  const t0 = performance.now()
  const sock = connect(Number(arg), host)
  const hash = out ? createHash('sha256') : undefined
  let bytes = 0
  const file = out ? createWriteStream(out) : undefined
  await pipeline(
    sock,
    new Writable({
      highWaterMark: 1 << 20,
      write(chunk: Buffer, _enc, cb) {
        bytes += chunk.length
        hash?.update(chunk)
        if (!file || file.write(chunk)) cb()
        else file.once('drain', () => cb())
      }
    })
  )
  if (file) await new Promise<void>((resolve, reject) => file.end((err?: Error | null) => (err ? reject(err) : resolve())))
  process.stdout.write(`${JSON.stringify({ ms: performance.now() - t0, bytes, sha256: hash?.digest('hex') })}\n`)
}
