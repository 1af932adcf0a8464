import type { TestContext } from 'node:test'
import type Hypercore from 'hypercore'
import { Seeder } from '../../src/p2p/seeder.js'
import { createSwarm, startBootstrap } from '../../src/p2p/swarm.js'
import type { Store } from '../../src/store/store.js'

/** A local DHT for one test, closed after it; returns the bootstrap list. */
export async function testDht(t: TestContext): Promise<string[]> {
  const boot = await startBootstrap()
  t.after(() => boot.close())
  return [`${boot.host}:${boot.port}`]
}

/**
 * Seeds `catalog` from `store` on its own swarm until the test ends, then
 * closes the seeder, the swarm and the store (in that order).
 */
export async function seedFor(t: TestContext, store: Store, catalog: Hypercore, bootstrap: string[]): Promise<Seeder> {
  const seeder = new Seeder(store, createSwarm({ bootstrap }))
  await seeder.seed(catalog)
  t.after(async () => {
    await seeder.close()
    await seeder.swarm.destroy()
    await store.close()
  })
  return seeder
}
