import { createHash } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { access, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import tar from 'tar-stream'
import { MiB } from '../lib/stats.js'
import { SeededBytes } from './random.js'

/** Bump when the layer recipe changes, so cached images are rebuilt. */
const RECIPE = 3
const FILE_SIZE = 4 * MiB
const MTIME = new Date('2024-01-01T00:00:00Z')

/** Paths of the debootstrap rootfs left out of the base layer. */
const BASE_EXCLUDE = [/^\.\/dev\/./, /^\.\/var\/cache\/apt\/./, /^\.\/var\/lib\/apt\/lists\/./, /^\.\/usr\/share\/locale\/./]

/** One layer of a built image. */
export interface LayerInfo {
  role: 'base' | 'app' | 'data' | 'cleanup'
  diffId: string
  size: number
  file: string
}

/** A built image: a `docker save`-style archive plus what the bench needs to know about it. */
export interface BenchImage {
  name: string
  archive: string
  archiveSize: number
  configDigest: string
  /** Sum of the layer tars and the config: what a receiver must fetch. */
  imageSize: number
  layers: LayerInfo[]
}

/**
 * Builds (or finds in the cache) a 4-layer image of about `sizeMiB`:
 * base = the minbase rootfs without /dev nodes, apt caches and locales;
 * app and data = seeded random 4 MiB files, 75/25 of the padding;
 * cleanup = whiteouts of a file and a directory from lower layers, an
 * opaque directory and a small config file. `version` changes only the data
 * layer (and the config), which is what an update sends.
 */
export async function buildImage(rootfsTar: string, cacheDir: string, sizeMiB: number, version = 1): Promise<BenchImage> {
  const dir = join(cacheDir, 'images')
  await mkdir(dir, { recursive: true })
  const name = `bench/debian:${sizeMiB}m-v${version}`
  const stem = join(dir, `debian-${sizeMiB}m-v${version}-r${RECIPE}`)
  const metaFile = `${stem}.json`
  const cached = await readFile(metaFile, 'utf8').then((t) => JSON.parse(t) as BenchImage, () => undefined)
  if (cached && (await access(cached.archive).then(() => true, () => false))) return cached

  const base = await layer(join(dir, `base-r${RECIPE}.tar`), 'base', (pack) => copyRootfs(rootfsTar, pack))
  const padding = Math.max(2 * FILE_SIZE, sizeMiB * MiB - base.size)
  const dataBytes = roundFiles(padding / 4)
  const appBytes = roundFiles(padding - dataBytes)
  const app = await layer(join(dir, `app-${appBytes}-r${RECIPE}.tar`), 'app', (pack) =>
    randomFiles(pack, 'opt/bench', 'blob', appBytes, `app-${appBytes}`, true)
  )
  const data = await layer(join(dir, `data-${dataBytes}-v${version}-r${RECIPE}.tar`), 'data', (pack) =>
    randomFiles(pack, 'srv/bench', 'data', dataBytes, `data-${dataBytes}-v${version}`, false)
  )
  const cleanup = await layer(join(dir, `cleanup-r${RECIPE}.tar`), 'cleanup', cleanupLayer)
  const layers = [base, app, data, cleanup]

  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      created: MTIME.toISOString(),
      config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['/bin/bash'], Labels: { 'org.hypership.bench': `${sizeMiB}m-v${version}` } },
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
      history: layers.map((l) => ({ created: MTIME.toISOString(), created_by: `hypership bench: ${l.role} layer` }))
    })
  )
  const configDigest = `sha256:${createHash('sha256').update(config).digest('hex')}`
  const archive = `${stem}.tar`
  await writeArchive(archive, name, config, configDigest, layers)
  const image: BenchImage = {
    name,
    archive,
    archiveSize: (await stat(archive)).size,
    configDigest,
    imageSize: config.length + layers.reduce((n, l) => n + l.size, 0),
    layers
  }
  await writeFile(metaFile, JSON.stringify(image, null, 2))
  return image
}

function roundFiles(bytes: number): number {
  return Math.max(FILE_SIZE, Math.round(bytes / FILE_SIZE) * FILE_SIZE)
}

/** Writes a layer tar once (cached by file name), hashing it on the way. */
async function layer(file: string, role: LayerInfo['role'], fill: (pack: tar.Pack) => Promise<void>): Promise<LayerInfo> {
  const metaFile = `${file}.json`
  const cached = await readFile(metaFile, 'utf8').then((t) => JSON.parse(t) as LayerInfo, () => undefined)
  if (cached && (await access(file).then(() => true, () => false))) return cached

  const pack = tar.pack()
  const hash = createHash('sha256')
  let size = 0
  const count = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk)
      size += chunk.length
      cb(null, chunk)
    }
  })
  const written = pipeline(pack, count, createWriteStream(`${file}.partial`))
  await fill(pack)
  pack.finalize()
  await written
  await rename(`${file}.partial`, file)
  const info: LayerInfo = { role, diffId: `sha256:${hash.digest('hex')}`, size, file }
  await writeFile(metaFile, JSON.stringify(info))
  return info
}

/** Copies the rootfs tar entry by entry, leaving out BASE_EXCLUDE. */
async function copyRootfs(rootfsTar: string, pack: tar.Pack): Promise<void> {
  const extract = tar.extract()
  const source = pipeline(createReadStream(rootfsTar), extract)
  for await (const entry of extract) {
    const h = entry.header
    if (BASE_EXCLUDE.some((re) => re.test(h.name))) {
      entry.resume()
      continue
    }
    if (h.type === 'file' || h.type === 'contiguous-file') {
      const body: Buffer[] = []
      for await (const part of entry) body.push(part as Buffer)
      await entryDone(pack, { ...h, type: 'file' }, Buffer.concat(body))
    } else {
      entry.resume()
      await entryDone(pack, { ...h, size: 0 })
    }
  }
  await source
}

/** `count` files of FILE_SIZE seeded random bytes under `dir`, plus links when `links`. */
async function randomFiles(pack: tar.Pack, dir: string, stem: string, bytes: number, seed: string, links: boolean): Promise<void> {
  const random = new SeededBytes(seed)
  await entryDone(pack, { name: `${dir.split('/')[0]}/`, type: 'directory', mode: 0o755, mtime: MTIME })
  await entryDone(pack, { name: `${dir}/`, type: 'directory', mode: 0o755, mtime: MTIME })
  const count = bytes / FILE_SIZE
  for (let i = 0; i < count; i++) {
    const name = `${dir}/${stem}-${String(i).padStart(3, '0')}.bin`
    await entryDone(pack, { name, mode: 0o644, mtime: MTIME }, random.next(FILE_SIZE))
  }
  if (!links) return
  await entryDone(pack, { name: `${dir}/latest.bin`, type: 'symlink', linkname: `${stem}-000.bin`, mode: 0o777, mtime: MTIME })
  await entryDone(pack, { name: `${dir}/hardlink.bin`, type: 'link', linkname: `${dir}/${stem}-000.bin`, mode: 0o644, mtime: MTIME })
}

/** Whiteouts of a lower file and directory, an opaque directory, one new file. */
async function cleanupLayer(pack: tar.Pack): Promise<void> {
  const file = (name: string, body = '') => entryDone(pack, { name, mode: 0o644, mtime: MTIME }, Buffer.from(body))
  const dir = (name: string) => entryDone(pack, { name, type: 'directory', mode: 0o755, mtime: MTIME })
  await dir('etc/')
  await file('etc/.wh.motd')
  await file('etc/bench.conf', 'layers=4\n')
  await dir('opt/')
  await dir('opt/bench/')
  await file('opt/bench/.wh.blob-001.bin')
  await dir('usr/')
  await dir('usr/share/')
  await file('usr/share/.wh.doc')
  await dir('var/')
  await dir('var/log/')
  await file('var/log/.wh..wh..opq')
  await file('var/log/bench.log', 'built by the hypership bench\n')
}

function entryDone(pack: tar.Pack, header: Partial<tar.Header> & { name: string }, body?: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const cb = (err?: Error | null) => (err ? reject(err) : resolve())
    if (body) pack.entry({ ...header, uid: header.uid ?? 0, gid: header.gid ?? 0 }, body, cb)
    else pack.entry({ ...header, uid: header.uid ?? 0, gid: header.gid ?? 0 }, cb)
  })
}

/**
 * A `docker save` (legacy layout) archive: `<diffid>/layer.tar`, the config
 * as `<hex>.json`, manifest.json and repositories.
 */
async function writeArchive(file: string, name: string, config: Buffer, configDigest: string, layers: LayerInfo[]): Promise<void> {
  const pack = tar.pack()
  const written = pipeline(pack, createWriteStream(`${file}.partial`))
  const hex = (d: string) => d.slice('sha256:'.length)
  const [repo, tag] = name.split(':') as [string, string]
  await entryDone(pack, { name: `${hex(configDigest)}.json`, mode: 0o644, mtime: MTIME }, config)
  for (const l of layers) {
    await entryDone(pack, { name: `${hex(l.diffId)}/`, type: 'directory', mode: 0o755, mtime: MTIME })
    await new Promise<void>((resolve, reject) => {
      const sink = pack.entry({ name: `${hex(l.diffId)}/layer.tar`, size: l.size, mode: 0o644, mtime: MTIME, uid: 0, gid: 0 }, (err) =>
        err ? reject(err) : resolve()
      )
      createReadStream(l.file).on('error', reject).pipe(sink)
    })
  }
  const manifest = [{ Config: `${hex(configDigest)}.json`, RepoTags: [name], Layers: layers.map((l) => `${hex(l.diffId)}/layer.tar`) }]
  await entryDone(pack, { name: 'manifest.json', mode: 0o644, mtime: new Date(0) }, Buffer.from(JSON.stringify(manifest)))
  const top = hex(layers[layers.length - 1]!.diffId)
  await entryDone(pack, { name: 'repositories', mode: 0o644, mtime: new Date(0) }, Buffer.from(JSON.stringify({ [repo]: { [tag]: top } })))
  pack.finalize()
  await written
  await rename(`${file}.partial`, file)
}
