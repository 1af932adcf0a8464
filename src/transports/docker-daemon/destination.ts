import { PassThrough } from 'node:stream'
import { TarWriter } from '../../archive/tar-write.js'
import type { BlobReader, ImageDestination, ImageToWrite } from '../../image/transport.js'
import { renamed, writeDockerArchive } from '../docker-archive/destination.js'
import type { Engine } from './engine.js'

/**
 * Loads images into a Docker Engine (or podman's compatible service) with
 * `POST /images/load`: the docker-archive is built on the fly from the
 * blobs and streamed into the request, with no temporary file. RepoTags are
 * written in full (`docker.io/library/app:v1`): dockerd shows them as
 * `app:v1`, and podman keeps them instead of prefixing `localhost/`. The
 * engine's own words come back as HS_ERR_DOCKER when it refuses the load.
 */
export class DockerDaemonDestination implements ImageDestination {
  readonly description: string
  /** The engine's "Loaded image…" lines from the last write. */
  loaded: string[] = []

  /** `name` (from `docker-daemon:NAME[:TAG]`) renames the single image written; without it images keep their names. */
  constructor(readonly engine: Engine, readonly name?: string) {
    this.description = `docker-daemon:${name ?? ''}`
  }

  /** Streams all `images` into the engine in one load. */
  async write(images: ImageToWrite[], blobs: BlobReader): Promise<void> {
    const named = renamed(images, this.name, this.description)
    const tar = new PassThrough({ highWaterMark: 1 << 20 })
    const writer = new TarWriter(tar)
    // the first failure is the cause: a blob that failed its check cuts the
    // upload short; an engine that refused or vanished stops the archive
    let first: { err: unknown } | undefined
    const loading = this.engine.load(tar).catch(async (err: unknown) => {
      first ??= { err }
      await writer.abort(err as Error)
      throw err
    })
    const producing = (async () => {
      try {
        await writeDockerArchive(writer, named, blobs, 'canonical')
        await writer.finish()
      } catch (err) {
        first ??= { err }
        await writer.abort(err as Error)
        throw err
      }
    })()
    const [, load] = await Promise.allSettled([producing, loading])
    if (first !== undefined) throw first.err
    if (load.status === 'rejected') throw load.reason
    this.loaded = load.value
  }
}
