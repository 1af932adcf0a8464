import { spawn } from 'node:child_process'
import { constants } from 'node:fs'
import {
  access,
  mkdtemp,
  open,
  readFile,
  rm,
  writeFile
} from 'node:fs/promises'
import path from 'node:path'
import { supervise } from './service.js'

/** What a finished command printed; a non-zero `code` is not thrown. */
export interface CommandResult {
  stdout: string
  stderr: string
  code: number
}

/** A private Docker daemon. The caller must `stop()` it, e.g. in `after`. */
export interface Dockerd {
  /** `unix://…/docker.sock`, for `docker -H` and skopeo's daemon host. */
  host: string
  /** The socket itself, for `http.request({ socketPath })`. */
  socketPath: string
  /** Runs Debian's docker 20.10 client against this daemon only. */
  docker(args: string[]): Promise<CommandResult>
  /** SIGTERM, wait (SIGKILL after 15 s), delete its files. Idempotent. */
  stop(): Promise<void>
}

// Debian's 20.10 client; /usr/local/bin/docker may be a newer one that is not
// on a fresh CI machine.
const DOCKER_CLIENT = '/usr/bin/docker'
const READY_TIMEOUT_MS = 30_000
const STOP_TIMEOUT_MS = 15_000

/**
 * Starts a dockerd (vfs storage, no iptables, no bridge) in a fresh directory
 * under /tmp and resolves once it answers `_ping`. Throws, never skips, when
 * dockerd or the client is missing or we are not root.
 */
export async function startDockerd(): Promise<Dockerd> {
  if (process.getuid?.() !== 0) {
    throw new Error(
      'startDockerd: dockerd needs root; run the tests as root ' +
        '(scripts/test.sh)'
    )
  }
  const dockerd = await findExecutable('dockerd', ['/usr/sbin', '/usr/bin'])
  if (!dockerd) throw missing('dockerd')
  if (!(await isExecutable(DOCKER_CLIENT))) throw missing(DOCKER_CLIENT)

  // Short on purpose: dockerd and containerd put unix sockets under it, and
  // socket paths are capped at 108 bytes.
  const dir = await mkdtemp('/tmp/hsd-')
  const socketPath = path.join(dir, 'docker.sock')
  const host = `unix://${socketPath}`
  const logPath = path.join(dir, 'dockerd.log')
  const configFile = path.join(dir, 'daemon.json')
  await writeFile(configFile, '{}\n') // ignore any /etc/docker/daemon.json

  const log = await open(logPath, 'w')
  const child = spawn(
    dockerd,
    [
      '--config-file',
      configFile,
      '--data-root',
      path.join(dir, 'data'),
      '--exec-root',
      path.join(dir, 'exec'),
      '--pidfile',
      path.join(dir, 'dockerd.pid'),
      '--storage-driver=vfs',
      '--iptables=false',
      '--ip6tables=false',
      '--bridge=none',
      '--host',
      host
    ],
    { stdio: ['ignore', log.fd, log.fd] }
  )
  await log.close()

  const service = supervise(child)
  const clientEnv = clientEnvironment(path.join(dir, 'client'))
  let stopping: Promise<void> | null = null

  const handle: Dockerd = {
    host,
    socketPath,
    docker: (args) =>
      runCommand(DOCKER_CLIENT, ['-H', host, ...args], clientEnv),
    stop() {
      stopping ??= (async () => {
        await service.terminate(STOP_TIMEOUT_MS, () =>
          killPidFile(path.join(dir, 'exec', 'containerd', 'containerd.pid'))
        )
        await unmountUnder(dir)
        await rm(dir, { recursive: true, force: true })
      })()
      return stopping
    }
  }

  try {
    await service.ready(socketPath, logPath, READY_TIMEOUT_MS, 'startDockerd: dockerd')
  } catch (err) {
    await handle.stop()
    throw err
  }
  return handle
}

function missing(what: string): Error {
  return new Error(
    `startDockerd: ${what} not found; install Debian's docker.io ` +
      '(apt-get install docker.io) or run scripts/test.sh'
  )
}

function clientEnvironment(configDir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, DOCKER_CONFIG: configDir }
  for (const name of [
    'DOCKER_HOST',
    'DOCKER_CONTEXT',
    'DOCKER_TLS_VERIFY',
    'DOCKER_CERT_PATH'
  ]) {
    delete env[name]
  }
  return env
}

/** Runs a command to completion and collects its output as UTF-8. */
export function runCommand(
  file: string,
  args: string[],
  env: NodeJS.ProcessEnv
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env, stdio: ['ignore', 'pipe', 'pipe'] })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (b: Buffer) => out.push(b))
    child.stderr.on('data', (b: Buffer) => err.push(b))
    child.once('error', reject)
    child.once('close', (code, signal) => {
      resolve({
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        code: code ?? (signal ? 128 : 1)
      })
    })
  })
}

async function killPidFile(file: string): Promise<void> {
  const pid = Number((await readFile(file, 'utf8').catch(() => '')).trim())
  if (!Number.isInteger(pid) || pid <= 0) return

  try {
    process.kill(pid, 'SIGKILL')
  } catch {
    // already gone
  }
}

// dockerd bind-mounts its data root onto itself and only undoes that on a
// clean shutdown; after SIGKILL the mount would outlive the directory.
async function unmountUnder(dir: string): Promise<void> {
  const info = await readFile('/proc/self/mountinfo', 'utf8').catch(() => '')
  const points = info
    .split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    .map((p) =>
      p.replace(/\\([0-7]{3})/g, (_, o: string) =>
        String.fromCharCode(parseInt(o, 8))
      )
    )
    .filter((p) => p.startsWith(dir + '/'))
    .sort((a, b) => b.length - a.length)
  for (const p of points) await runCommand('umount', ['-l', p], process.env)
}

async function isExecutable(file: string): Promise<boolean> {
  return access(file, constants.X_OK).then(
    () => true,
    () => false
  )
}

/** The first executable called `name` on PATH or in `extraDirs`, or null. */
export async function findExecutable(
  name: string,
  extraDirs: string[]
): Promise<string | null> {
  const dirs = [
    ...(process.env.PATH ?? '').split(':').filter(Boolean),
    ...extraDirs
  ]
  for (const d of dirs) {
    const file = path.join(d, name)
    if (await isExecutable(file)) return file
  }
  return null
}

/** Runs the docker client against `d` and returns its trimmed stdout; a non-zero exit fails the test with stderr. */
export async function dockerOk(d: Dockerd, args: string[]): Promise<string> {
  const r = await d.docker(args)
  if (r.code !== 0) throw new Error(`docker ${args.join(' ')} exited ${r.code}: ${r.stderr}`)
  return r.stdout.trim()
}
