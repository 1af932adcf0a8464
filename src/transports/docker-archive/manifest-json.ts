import { ErrorCodes, HypershipError } from '../../errors.js'
import { isObject, parseJson } from '../image-json.js'

/** One image of a `docker save` manifest.json. */
export interface DockerArchiveEntry {
  /** Archive path of the config JSON. */
  Config: string
  /** Familiar names (`busybox:1`); null or absent for an untagged image. */
  RepoTags: string[] | null
  /** Archive paths of the layers, base first. */
  Layers: string[]
}

/** Parses `manifest.json`; HS_ERR_BAD_MANIFEST when its shape is wrong. */
export function parseDockerManifest(bytes: Buffer, what: string): DockerArchiveEntry[] {
  const bad = (why: string): HypershipError => new HypershipError(ErrorCodes.BAD_MANIFEST, `${what}: ${why}`)
  const doc = parseJson(bytes, what)
  if (!Array.isArray(doc)) throw bad('manifest.json is not a list')

  return doc.map((v: unknown, i) => {
    if (!isObject(v)) throw bad(`entry ${i} is not an object`)
    if (typeof v.Config !== 'string') throw bad(`entry ${i} has no Config`)
    const tags = v.RepoTags ?? null
    if (tags !== null && !(Array.isArray(tags) && tags.every((t) => typeof t === 'string'))) {
      throw bad(`entry ${i} RepoTags is not a list of names`)
    }
    if (!Array.isArray(v.Layers) || !v.Layers.every((l) => typeof l === 'string')) {
      throw bad(`entry ${i} Layers is not a list of paths`)
    }
    return { Config: v.Config, RepoTags: tags as string[] | null, Layers: v.Layers as string[] }
  })
}

/** The digest a path embeds by convention (`<hex>.json`, `blobs/sha256/<hex>`), if any. */
export function digestInName(path: string): string | undefined {
  const m = /(?:^|\/)(?:sha256\/)?([a-f0-9]{64})(?:\.json)?$/.exec(path)
  return m?.[1] === undefined ? undefined : `sha256:${m[1]}`
}
