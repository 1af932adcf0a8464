import { readFileSync } from 'node:fs'
import { networkInterfaces } from 'node:os'

/** An IPv4 address of this host on a LAN interface, with its prefix. */
export interface LanAddress {
  address: string
  netmask: string
  iface: string
}

const toInt = (ip: string): number => ip.split('.').reduce((n, part) => ((n << 8) | Number(part)) >>> 0, 0)

/** True for a dotted-quad IPv4 address. */
export function isIPv4(ip: string): boolean {
  const parts = ip.split('.')
  return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)
}

/**
 * This host's IPv4 addresses on non-loopback interfaces, in the order the
 * OS lists them. Link-local (169.254/16) addresses count: a LAN with no
 * DHCP server has only those.
 */
export function lanAddresses(): LanAddress[] {
  const out: LanAddress[] = []
  for (const [iface, addrs] of Object.entries(networkInterfaces())) {
    for (const a of addrs ?? []) {
      if (a.family === 'IPv4' && !a.internal) out.push({ address: a.address, netmask: a.netmask, iface })
    }
  }
  return out
}

/** This host's loopback interface, as a LanAddress. */
const LOOPBACK: LanAddress = { address: '127.0.0.1', netmask: '255.0.0.0', iface: 'lo' }

/** The local address whose subnet holds `host`, if any: `host` is on our LAN. */
export function localFor(host: string | undefined, addresses = lanAddresses()): LanAddress | undefined {
  if (!host || !isIPv4(host)) return undefined
  const h = toInt(host)
  return addresses.find((a) => {
    const mask = toInt(a.netmask)
    return mask !== 0 && (toInt(a.address) & mask) === (h & mask)
  })
}

/**
 * Whether the host has a default IPv4 route, i.e. a way to reach the public
 * DHT at all. Read from /proc/net/route; elsewhere than Linux assume yes.
 */
export function hasDefaultRoute(): boolean {
  let table: string
  try {
    table = readFileSync('/proc/net/route', 'utf8')
  } catch {
    return true
  }
  // columns: Iface Destination Gateway Flags …; destination 00000000 is the default
  return table
    .split('\n')
    .slice(1)
    .some((line) => line.trim().split(/\s+/)[1] === '00000000')
}

/**
 * Where to reach `host` directly: the LAN address whose subnet holds it, or
 * loopback for a peer on this very host (another user, another store).
 */
export function directFor(host: string | undefined): LanAddress | undefined {
  if (host && isIPv4(host) && host.startsWith('127.')) return LOOPBACK
  return localFor(host)
}
