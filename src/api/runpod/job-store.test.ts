import { afterAll, beforeEach, describe, expect, it } from 'vitest'
import type { DatabaseHandle } from '../../db/connect.js'
import { openTestDatabase, testDialects } from '../../db/test-databases.js'
import { RunPodJobStore } from './job-store.js'

const T0 = Date.UTC(2026, 10, 1)
const HOOK = new URL('http://127.0.0.1:9/hook')
const POLICY = { maxAttempts: 3, retryDelayMs: 10_000 }

for (const target of await testDialects()) {
  describe.skipIf(!target.available)(`RunPodJobStore on ${target.title}`, () => {
    let handle: DatabaseHandle
    let now = T0
    let store: RunPodJobStore
    beforeEach(async () => {
      handle ??= await openTestDatabase(target.dialect)
      await handle.db.deleteFrom('runpod_jobs').execute()
      now = T0
      store = new RunPodJobStore(handle.db, { clock: () => now })
    })
    afterAll(async () => {
      await handle?.close()
    })

    it('keeps a job’s promises open until it ends, then hands the webhook to delivery', async () => {
      const added = await store.add('j1', { webhook: HOOK, ttlDeadline: T0 + 500, executionTimeoutMs: 300 })
      await store.add('j2', { ttlDeadline: T0 + 900 })
      expect(added).toMatchObject({ jobId: 'j1', state: 'open', webhook: HOOK.href, attempts: 0 })
      expect(await store.get('j1')).toEqual(added)
      expect((await store.open()).map((record) => record.jobId)).toEqual(['j1', 'j2'])
      expect(await store.finish('j1')).toBe('delivering')
      expect(await store.finish('j1')).toBeNull()
      expect(await store.finish('j2')).toBe('closed')
      expect(await store.open()).toEqual([])
      expect(await store.pending()).toEqual([{ jobId: 'j1', nextAttemptAt: T0 }])
    })

    it('remembers a job stopped for its policy, only while it is open', async () => {
      await store.add('j1', { ttlDeadline: T0 })
      await store.add('j2', { ttlDeadline: T0 })
      await store.markTimedOut('j1')
      await store.finish('j2')
      await store.markTimedOut('j2')
      expect(await store.isTimedOut('j1')).toBe(true)
      expect(await store.isTimedOut('j2')).toBe(false)
      expect(await store.isTimedOut('unknown')).toBe(false)
    })

    it('one claim wins among processes racing for the same delivery; the lease then passes on expiry', async () => {
      await store.add('j1', { webhook: HOOK })
      await store.finish('j1')
      const claims = await Promise.all(
        ['a', 'b', 'c', 'd'].map((owner) => store.claim('j1', owner, 1000, POLICY.maxAttempts)),
      )
      expect(claims.filter((claim) => claim !== null)).toHaveLength(1)
      expect(claims.find((claim) => claim !== null)?.attempts).toBe(1)
      expect(await store.pending()).toEqual([])
      now += 1001
      expect(await store.pending()).toEqual([{ jobId: 'j1', nextAttemptAt: T0 }])
      const next = await store.claim('j1', 'e', 1000, POLICY.maxAttempts)
      expect(next?.attempts).toBe(2)
      // the first owner's lease is gone: what it reports changes nothing
      const first = ['a', 'b', 'c', 'd'][claims.findIndex((claim) => claim !== null)]
      expect(await store.delivered('j1', first)).toBe(false)
      expect(await store.delivered('j1', 'e')).toBe(true)
      expect(await store.get('j1')).toMatchObject({ state: 'closed', outcome: 'delivered', attempts: 2 })
      expect(await store.claim('j1', 'f', 1000, POLICY.maxAttempts)).toBeNull()
    })

    it('a failed attempt waits the retry delay; the last one gives up and says why', async () => {
      await store.add('j1', { webhook: HOOK })
      await store.finish('j1')
      for (let attempt = 1; attempt <= 2; attempt++) {
        expect(await store.claim('j1', 'a', 1000, POLICY.maxAttempts)).toMatchObject({ attempts: attempt })
        expect(await store.failed('j1', 'a', 'HTTP 503', POLICY)).toBe('retry')
        expect(await store.pending()).toEqual([{ jobId: 'j1', nextAttemptAt: now + POLICY.retryDelayMs }])
        expect(await store.claim('j1', 'a', 1000, POLICY.maxAttempts)).toBeNull()
        now += POLICY.retryDelayMs
      }
      await store.claim('j1', 'a', 1000, POLICY.maxAttempts)
      expect(await store.failed('j1', 'a', 'connect ECONNREFUSED', POLICY)).toBe('gave-up')
      expect(await store.get('j1')).toMatchObject({
        state: 'closed',
        outcome: 'gave-up',
        attempts: 3,
        lastError: 'connect ECONNREFUSED',
      })
      expect(await store.failed('j1', 'a', 'again', POLICY)).toBe('lost')
    })

    it('gives up a delivery whose last attempt never reported, once its lease is over', async () => {
      await store.add('j1', { webhook: HOOK })
      await store.finish('j1')
      for (let attempt = 1; attempt < POLICY.maxAttempts; attempt++) {
        await store.claim('j1', 'a', 1000, POLICY.maxAttempts)
        await store.failed('j1', 'a', 'HTTP 500', POLICY)
        now += POLICY.retryDelayMs
      }
      await store.claim('j1', 'crashed', 1000, POLICY.maxAttempts)
      expect(await store.abandonInterrupted(POLICY.maxAttempts)).toEqual([])
      now += 1001
      expect(await store.abandonInterrupted(POLICY.maxAttempts)).toEqual(['j1'])
      expect(await store.get('j1')).toMatchObject({ state: 'closed', outcome: 'gave-up' })
    })

    it('stores the body of a job that never queued, and prunes closed rows after the retention', async () => {
      await store.addFinished('side', HOOK, { id: 'side', status: 'COMPLETED', output: { warmed: true } })
      expect(await store.pending()).toEqual([{ jobId: 'side', nextAttemptAt: T0 }])
      const claimed = await store.claim('side', 'a', 1000, POLICY.maxAttempts)
      expect(claimed?.payload).toEqual({ id: 'side', status: 'COMPLETED', output: { warmed: true } })
      await store.delivered('side', 'a')
      await store.add('open', { ttlDeadline: T0 })
      now += 60_000
      expect(await store.prune(now - 60_000)).toBe(0)
      expect(await store.prune(now - 59_999)).toBe(1)
      expect((await store.open()).map((record) => record.jobId)).toEqual(['open'])
    })
  })
}
