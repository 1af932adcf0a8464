import assert from 'node:assert/strict'
import { fileURLToPath } from 'node:url'
import { test } from 'node:test'
import { type LanHost, createLan } from '../helpers/netns.js'

const PROBE = fileURLToPath(new URL('../helpers/lan-probe.js', import.meta.url))

test('LAN discovery ignores forged mDNS answers: addresses off the subnet, odd names, bad ports, floods; forgets a node that says goodbye', async () => {
  const lan = await createLan(1)
  const [a] = lan.hosts as [LanHost]
  const seen = JSON.parse(await lan.exec(a, [process.execPath, PROBE, a.ip])) as Record<string, Array<{ id: string; host: string; port: number }>>
  assert.deepEqual(seen['off the subnet'], [])
  assert.deepEqual(seen['not our instance name'], [])
  assert.deepEqual(seen['port 0'], [])
  assert.deepEqual(seen['too many records'], [])
  assert.deepEqual(seen.valid, [{ id: 'bbbbbbbbbbbbbbbb', host: '10.254.0.9', port: 4321 }])
  assert.deepEqual(seen.goodbye, [])
})
