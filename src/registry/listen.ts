import { isIP } from 'node:net'
import { ErrorCodes, HypershipError } from '../errors.js'

/** Where the registry endpoint listens. */
export interface ListenAddress {
  host: string
  port: number
}

/**
 * Parses `HOST:PORT` (`[::1]:PORT` for IPv6; port 0 picks a free one). The
 * endpoint has no TLS, so anything but a loopback address is refused unless
 * `anyHost` is set.
 */
export function parseListen(input: string, anyHost = false): ListenAddress {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(input.trim())
  const host = m?.[1] ?? m?.[2]
  const port = Number(m?.[3])
  if (!m || !host || port > 65535) {
    throw new HypershipError(ErrorCodes.BAD_REFERENCE, `bad --registry address "${input}": expected HOST:PORT, e.g. 127.0.0.1:5000`)
  }
  const loopback = host === 'localhost' || /^127\.\d+\.\d+\.\d+$/.test(host) || host === '::1'
  if (!loopback && !anyHost) {
    throw new HypershipError(
      ErrorCodes.BAD_REFERENCE,
      `refusing to serve the registry on ${host}: it speaks plain HTTP; use a loopback address or pass --registry-any-host`
    )
  }
  if (!loopback && host !== 'localhost' && isIP(host) === 0) {
    throw new HypershipError(ErrorCodes.BAD_REFERENCE, `bad --registry host "${host}": give an IP address`)
  }
  return { host, port }
}
