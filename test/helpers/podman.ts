import { spawn } from 'node:child_process'
import { mkdir, mkdtemp, open, rm } from 'node:fs/promises'
import path from 'node:path'
import { type CommandResult, findExecutable, runCommand } from './dockerd.js'
import { supervise } from './service.js'

/** A private `podman system service` (Docker-compatible API). The caller must `stop()` it. */
export interface Podman {
  /** `unix://…/podman.sock`, for DOCKER_HOST. */
  host: string
  socketPath: string
  /** Runs `podman` against this service's storage only. */
  podman(args: string[]): Promise<CommandResult>
  /** SIGTERM, wait (SIGKILL after 15 s), delete its files. Idempotent. */
  stop(): Promise<void>
}

const READY_TIMEOUT_MS = 30_000
const STOP_TIMEOUT_MS = 15_000

/**
 * Starts podman's API service on a socket in a fresh directory under /tmp,
 * with its own root, runroot and TMPDIR there (vfs storage, cgroupfs, file
 * events), and resolves once it answers `_ping`. Throws, never skips, when
 * podman is missing or we are not root.
 */
export async function startPodman(): Promise<Podman> {
  if (process.getuid?.() !== 0) throw new Error('startPodman: needs root; run the tests as root (scripts/test.sh)')
  const podman = await findExecutable('podman', ['/usr/bin'])
  if (!podman) throw new Error('startPodman: podman not found; apt-get install podman (scripts/test.sh does)')

  const dir = await mkdtemp('/tmp/hsp-')
  const socketPath = path.join(dir, 'podman.sock')
  const host = `unix://${socketPath}`
  const tmp = path.join(dir, 'tmp')
  await mkdir(tmp)
  const global = [
    '--root', path.join(dir, 'root'),
    '--runroot', path.join(dir, 'run'),
    '--tmpdir', path.join(dir, 'libpod'),
    '--storage-driver', 'vfs',
    '--cgroup-manager', 'cgroupfs',
    '--events-backend', 'file'
  ]
  // podman and c/image unpack into TMPDIR (/var/tmp otherwise)
  const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: tmp }
  delete env.DOCKER_HOST
  delete env.CONTAINER_HOST

  const logPath = path.join(dir, 'podman.log')
  const log = await open(logPath, 'w')
  const child = spawn(podman, [...global, 'system', 'service', '--time=0', host], { stdio: ['ignore', log.fd, log.fd], env })
  await log.close()
  const service = supervise(child)

  let stopping: Promise<void> | null = null
  const handle: Podman = {
    host,
    socketPath,
    podman: (args) => runCommand(podman, [...global, ...args], env),
    stop() {
      stopping ??= (async () => {
        await service.terminate(STOP_TIMEOUT_MS)
        await rm(dir, { recursive: true, force: true })
      })()
      return stopping
    }
  }

  try {
    await service.ready(socketPath, logPath, READY_TIMEOUT_MS, 'startPodman: podman system service')
  } catch (err) {
    await handle.stop()
    throw err
  }
  return handle
}
