import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { buildImage, buildLayer, tarOf, type BuiltImage, type BuiltLayer, type RawEntry } from '../helpers/image-builder.js'

/** The layers and images most transport tests share. */
export interface Fixture {
  base: BuiltLayer
  /** Image with two tags: base + a layer with whiteouts. */
  app: BuiltImage
  /** Untagged image sharing `base`. */
  other: BuiltImage
}

/** Builds the shared fixture; `compression` applies to the non-base layers. */
export async function fixture(compression: 'none' | 'gzip' | 'zstd' = 'none'): Promise<Fixture> {
  const base = await buildLayer({
    dirs: ['bin', 'etc', 'tmp'],
    files: { 'bin/tool': Buffer.alloc(1500, 0x5a), 'etc/motd': 'hello from the base layer\n' },
    symlinks: { 'bin/sh': 'tool' },
    compression: compression === 'none' ? 'none' : 'gzip'
  })
  const top = await buildLayer({
    files: { 'usr/share/man/README': 'replaced\n', 'etc/app.conf': 'version=2\n' },
    whiteouts: ['etc/motd'],
    opaque: ['usr/share/man'],
    compression
  })
  const extra = await buildLayer({ files: { 'opt/other': 'other image\n' }, compression })
  return {
    base,
    app: buildImage([base, top], ['example.com/app:1', 'docker.io/library/app:latest'], 'app'),
    other: buildImage([base, extra], [], 'other')
  }
}

/** Writes a tar of `entries` under `dir` and returns its path. */
export async function writeTar(dir: string, name: string, entries: RawEntry[]): Promise<string> {
  const path = join(dir, name)
  await writeFile(path, await tarOf(entries))
  return path
}
