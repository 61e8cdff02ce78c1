import { afterAll, beforeEach, describe, expect, it } from 'vitest'
import type { DatabaseHandle } from '../../db/connect.js'
import { openTestDatabase, testDialects } from '../../db/test-databases.js'
import { IdempotencyStore } from './idempotency-store.js'

const ref = { scope: 'key1', key: 'k' }

for (const target of await testDialects()) {
  describe.skipIf(!target.available)(`IdempotencyStore on ${target.title}`, () => {
    let handle: DatabaseHandle
    let store: IdempotencyStore
    beforeEach(async () => {
      handle ??= await openTestDatabase(target.dialect)
      await handle.db.deleteFrom('idempotency_keys').execute()
      store = new IdempotencyStore(handle.db)
    })
    afterAll(async () => {
      await handle?.close()
    })

    it('the first claim wins; later ones see its fingerprint, then its job', async () => {
      expect(await store.claim(ref, 'f1', 1000, 5000)).toBeNull()
      expect(await store.claim(ref, 'f2', 1001, 5001)).toEqual({
        fingerprint: 'f1',
        jobId: null,
        createdAt: 1000,
      })
      await store.attach(ref, 'job-1')
      expect(await store.claim(ref, 'f1', 1002, 5002)).toMatchObject({ jobId: 'job-1' })
      // another API key's same Idempotency-Key is its own
      expect(await store.claim({ scope: 'key2', key: 'k' }, 'f1', 1003, 5003)).toBeNull()
    })

    it('of concurrent claims exactly one wins', async () => {
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) => store.claim(ref, 'f', 1000 + i, 9000)),
      )
      expect(results.filter((result) => result === null)).toHaveLength(1)
    })

    it('release removes only the record as it was seen', async () => {
      await store.claim(ref, 'f', 1000, 5000)
      await store.release(ref, { jobId: null, createdAt: 999 })
      expect(await store.claim(ref, 'f', 1001, 5001)).not.toBeNull()
      await store.release(ref, { jobId: null, createdAt: 1000 })
      expect(await store.claim(ref, 'f', 1002, 5002)).toBeNull()
    })

    it('sweep removes records past their time whose job is gone, keeping younger ones', async () => {
      await store.claim(ref, 'f', 1000, 2000)
      await store.attach(ref, 'no-such-job')
      await store.claim({ scope: 'key1', key: 'young' }, 'f', 1000, 9000)
      await store.sweep(3000)
      expect(await store.claim(ref, 'f', 3001, 9000)).toBeNull()
      expect(await store.claim({ scope: 'key1', key: 'young' }, 'f', 3001, 9000)).not.toBeNull()
    })
  })
}
