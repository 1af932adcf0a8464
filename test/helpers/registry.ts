import http from 'node:http'
import { hypership, start } from './cli.js'

export interface Reply {
  status: number
  headers: http.IncomingHttpHeaders
  body: Buffer
}

/** One HTTP request to the registry endpoint. */
export function request(base: string, method: string, path: string, body?: Buffer, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(new URL(path, base), { method, headers: { ...(body ? { 'Content-Length': String(body.length) } : {}), ...headers }, agent: false }, (res) => {
      const parts: Buffer[] = []
      res.on('data', (d: Buffer) => parts.push(d))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(body)
  })
}

export function errorCode(r: Reply): string | undefined {
  return (JSON.parse(r.body.toString('utf8')) as { errors: Array<{ code: string }> }).errors[0]?.code
}

/** Starts `hypership daemon --registry 127.0.0.1:0` on `store` (stopped after the test); returns its `http://HOST:PORT`. */
export async function registryDaemon(store: string, env: NodeJS.ProcessEnv, extra: string[] = []): Promise<string> {
  await start(['daemon', '--store', store, '--registry', '127.0.0.1:0', ...extra], env)
  for (let i = 0; i < 100; i++) {
    const st = await hypership(['status', '--store', store, '--json'])
    const url = (JSON.parse(st.stdout || '{}') as { registry?: string }).registry
    if (url) return url
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error('the daemon never reported its registry address')
}

