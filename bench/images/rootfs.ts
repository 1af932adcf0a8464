import { access, mkdir, readFile, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { run } from '../lib/proc.js'

const SUITE = 'bookworm'

/**
 * The Debian mirror the machine's apt already uses: the first URIs line of
 * debian.sources (deb822), else the first `deb` line of sources.list.
 */
export async function aptMirror(): Promise<string> {
  const deb822 = await readFile('/etc/apt/sources.list.d/debian.sources', 'utf8').catch(() => '')
  const uri = /^URIs:\s*(\S+)/m.exec(deb822)?.[1]
  if (uri) return uri
  const list = await readFile('/etc/apt/sources.list', 'utf8').catch(() => '')
  const deb = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+\S+/m.exec(list)?.[1]
  if (deb) return deb
  throw new Error('no Debian mirror in /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list')
}

/**
 * A tarball of a `debootstrap --variant=minbase bookworm` rootfs, built once
 * from the apt mirror and cached at `cacheDir/rootfs-bookworm-minbase.tar`.
 */
export async function minbaseRootfs(cacheDir: string, log: (s: string) => void): Promise<string> {
  const tarball = join(cacheDir, `rootfs-${SUITE}-minbase.tar`)
  if (await access(tarball).then(() => true, () => false)) return tarball

  const mirror = await aptMirror()
  const dir = join(cacheDir, `rootfs-${SUITE}-work`)
  await mkdir(cacheDir, { recursive: true })
  await rm(dir, { recursive: true, force: true })
  log(`debootstrap --variant=minbase ${SUITE} from ${mirror} (once; cached in ${tarball})`)
  try {
    await run('debootstrap', ['--variant=minbase', SUITE, dir, mirror])
    await run('tar', ['--sort=name', '-C', dir, '-cf', `${tarball}.partial`, '.'])
    await rename(`${tarball}.partial`, tarball)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
  return tarball
}
