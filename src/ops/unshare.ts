import { canonicalTag, looksLikeId } from '../image/reference.js'
import type { Seeder } from '../p2p/seeder.js'
import { Share } from '../p2p/share.js'
import type { Store } from '../store/store.js'

/** What `unshare` did. */
export interface UnshareResult {
  key: string
  /** Names untagged and manifest digests removed from the share. */
  withdrawn: string[]
  /** True when the whole share was stopped. */
  stopped: boolean
}

/**
 * Withdraws images from a share this store owns (`images` given: names are
 * untagged, IDs remove the image), or stops the share entirely (none given):
 * it is no longer seeded here and not resumed by the daemon. A share can't
 * be recalled from receivers that already hold it; see docs/protocol.md.
 */
export async function unshareImages(store: Store, seeder: Seeder | undefined, key: string, images: string[]): Promise<UnshareResult> {
  const share = await Share.open(store, key)
  try {
    if (images.length === 0) {
      await share.forget()
      await seeder?.unseed(key)
      return { key, withdrawn: [], stopped: true }
    }
    const inputs: Array<{ name: string } | { manifest: string }> = []
    for (const image of images) {
      inputs.push(looksLikeId(image) ? { manifest: (await store.resolve(image)).digest } : { name: canonicalTag(image) })
    }
    await share.withdraw(inputs)
    return { key, withdrawn: inputs.map((i) => ('name' in i ? i.name : i.manifest)), stopped: false }
  } finally {
    await share.close()
  }
}
