import { inspectStream } from '../archive/inspector.js'
import { HypershipError } from '../errors.js'
import { MAX_METADATA } from '../image/manifest.js'
import { validateImage } from '../image/validate.js'
import type { ImageRecord } from '../store/image-db.js'
import type { Store } from '../store/store.js'

/** What `verify` found for one image. */
export interface VerifyReport {
  digest: string
  names: string[]
  ok: boolean
  /** One line per problem: which blob, what is wrong, with the error code. */
  problems: string[]
}

/**
 * Re-reads every blob of the images (all of them by default) from its
 * chunks, checking each blob's sha256 and size, each layer's diff_id against
 * the config, and the manifest's shape. Reads everything; changes nothing.
 */
export async function verifyImages(store: Store, inputs: string[] = []): Promise<VerifyReport[]> {
  const named = inputs.length ? await Promise.all(inputs.map((i) => store.resolve(i))) : await store.images()
  // two names of one image are one image to check
  const images = [...new Map(named.map((i) => [i.digest, i])).values()]
  const checked = new Map<string, { diffId?: string; problem?: string }>()
  const reports: VerifyReport[] = []
  for (const image of images) reports.push(await verifyOne(store, image, checked))
  return reports
}

async function verifyOne(store: Store, image: ImageRecord, checked: Map<string, { diffId?: string; problem?: string }>): Promise<VerifyReport> {
  const problems: string[] = []
  for (const digest of image.blobs) {
    if (!checked.has(digest)) checked.set(digest, await checkBlob(store, digest))
    const problem = checked.get(digest)?.problem
    if (problem) problems.push(problem)
  }
  if (problems.length === 0) {
    try {
      await validateImage(store.blobs, await store.blobs.readBytes(image.digest, MAX_METADATA), image.digest, (d) => checked.get(d)?.diffId)
    } catch (err) {
      problems.push(describe(err))
    }
  }
  return { digest: image.digest, names: image.tags, ok: problems.length === 0, problems }
}

async function checkBlob(store: Store, digest: string): Promise<{ diffId?: string; problem?: string }> {
  try {
    return { diffId: (await inspectStream(await store.blobs.open(digest), `blob ${digest}`)).diffId }
  } catch (err) {
    return { problem: `blob ${digest}: ${describe(err)}` }
  }
}

function describe(err: unknown): string {
  const message = (err as Error)?.message ?? String(err)
  return err instanceof HypershipError ? `${message} [${err.code}]` : message
}
