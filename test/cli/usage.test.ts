import assert from 'node:assert/strict'
import { open } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { pathForDaemon } from '../../src/cli/context.js'
import { hypership, localDht, start } from '../helpers/cli.js'
import { tmpdir } from '../helpers/tmp.js'

// nothing here reaches the network; the flags are refused before that
const NET = { HYPERSHIP_BOOTSTRAP: '127.0.0.1:1' }
const KEY = 'yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy'

test('bad flag values and missing arguments are usage errors: one line, exit 2, never an internal error', async () => {
  const store = await tmpdir()
  const cases: Array<[string[], RegExp]> = [
    [['receive', KEY, '--timeout', 'abc'], /--timeout must be a number from 1 to 86400 \[/],
    [['receive', KEY, '--timeout', '-5'], /--timeout must be a number/],
    [['bootstrap', '--port', '99999'], /--port must be a whole number from 0 to 65535/],
    [['bootstrap', '--nodes', '1'], /--nodes must be a whole number from 2 to 64/],
    [['daemon', '--registry-find-timeout', '0'], /--registry-find-timeout must be/],
    [['remote', 'add'], /remote add needs ALIAS and KEY/],
    [['remote', 'rm'], /remote rm needs ALIAS/],
    [['frobnicate'], /Unknown argument: frobnicate/],
    [['remote', 'frob'], /Invalid values: Argument: action/]
  ]
  for (const [args, message] of cases) {
    const r = await hypership([...args, '--store', store], NET, 20_000)
    assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code}, ${r.stderr}`)
    assert.match(r.stderr, message)
    assert.match(r.stderr, /\[HS_ERR_BAD_REFERENCE\]\n$/)
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
  }
})

test('Ctrl-C ends a receive with HS_ERR_ABORTED, exit 130, and --json ends its stream with the error', async () => {
  const dht = await localDht()
  const store = await tmpdir()
  const r = await start(['receive', KEY, '--store', store, '--json', '--timeout', '60'], { HYPERSHIP_BOOTSTRAP: dht.bootstrap })
  assert.equal((JSON.parse(r.firstLine) as { type: string }).type, 'searching')
  let stdout = ''
  r.child.stdout!.on('data', (d: string) => (stdout += d))
  assert.equal(await r.stop('SIGINT'), 130)
  assert.match(r.stderr(), /receive cancelled; what arrived is kept.*\[HS_ERR_ABORTED\]/)
  const last = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as { type?: string; code?: string }
  assert.deepEqual([last.type, last.code], ['error', 'HS_ERR_ABORTED'])
})

test('paths that name a process\'s own descriptors: receive -o to its own stdout is refused; a daemon gets the file behind /proc/self/fd/N, never the descriptor', async () => {
  const r = await hypership(['receive', KEY, '--store', await tmpdir(), '-o', '/dev/stdout'], NET, 20_000)
  assert.equal(r.code, 2, r.stderr)
  assert.match(r.stderr, /standard output, which carries receive's own messages/)

  const file = join(await tmpdir(), 'out.tar')
  const handle = await open(file, 'w')
  try {
    assert.equal(pathForDaemon(`/proc/self/fd/${handle.fd}`, 'output'), file)
    assert.equal(pathForDaemon(`docker-archive:/dev/fd/${handle.fd}`, 'output'), `docker-archive:${file}`)
  } finally {
    await handle.close()
  }
  assert.throws(() => pathForDaemon('/dev/fd/987654', 'output'), { code: 'HS_ERR_BAD_REFERENCE', message: /own descriptor, which the running daemon cannot reach/ })
  assert.equal(pathForDaemon('/srv/images/app.tar', 'output'), '/srv/images/app.tar')
})
