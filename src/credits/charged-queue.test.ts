import { afterAll, beforeEach, describe, expect, it } from 'vitest'
import { isPigmentError } from '../core/errors.js'
import type { DatabaseHandle } from '../db/connect.js'
import { clearTables, openTestDatabase, testDialects } from '../db/test-databases.js'
import { DbQueue } from '../jobs/db-queue.js'
import { sampleRequest } from '../jobs/test-requests.js'
import { KeyStore } from '../keys/key-store.js'
import { UsageRepo } from '../usage/usage-report.js'
import { chargeQueue } from './charged-queue.js'
import { costMilli } from './cost.js'
import { CreditLedger } from './credit-ledger.js'
import { JobSettler } from './job-settlement.js'

const FACTORS = { 'tiny-sd': 2 }

for (const target of await testDialects()) {
  describe.skipIf(!target.available)(`chargeQueue over DbQueue on ${target.title}`, () => {
    let handle: DatabaseHandle
    let keys: KeyStore
    let ledger: CreditLedger
    let queue: DbQueue
    let charged: DbQueue
    beforeEach(async () => {
      handle ??= await openTestDatabase(target.dialect)
      await clearTables(handle)
      keys = new KeyStore(handle)
      ledger = new CreditLedger(handle)
      queue = new DbQueue(handle, { exclusive: true, maxQueued: 1000, retryBackoffMs: 0 })
      const settler = new JobSettler(ledger, { factors: FACTORS })
      charged = chargeQueue(queue, { ledger, settler, factors: FACTORS })
    })
    afterAll(async () => {
      await queue?.close()
      await handle?.close()
    })

    it('charges submissions, keeps what succeeded jobs cost and refunds failures, cancels and purges', async () => {
      const request = (n: number) => sampleRequest({ n, origin: { keyId: '', source: 'native' } })
      const cost = costMilli(request(2), FACTORS)
      const { key } = await keys.create({ name: 'k', creditsMilli: 10 * cost })
      const mine = (n: number) => sampleRequest({ n, origin: { keyId: key.id, source: 'native' } })

      const attempts = await Promise.allSettled(Array.from({ length: 50 }, () => charged.enqueue(mine(2))))
      const jobs = attempts.flatMap((a) => (a.status === 'fulfilled' ? [a.value] : []))
      expect(jobs).toHaveLength(10)
      for (const a of attempts)
        if (a.status === 'rejected') expect(isPigmentError(a.reason, 'CREDITS_INSUFFICIENT')).toBe(true)
      expect(await ledger.balance(key.id)).toBe(0)

      // 4 succeed (one with a single image of the two), 2 fail for good, 2 are canceled, 2 purged
      const claims = []
      for (let i = 0; i < 6; i++) claims.push(await charged.claim('w'))
      for (const [i, claim] of claims.entries()) {
        if (claim === null) throw new Error('expected a queued job')
        if (i < 4) await charged.complete(claim.job.id, claim.lease, i === 0 ? ['a0'] : ['a0', 'a1'])
        else
          await charged.fail(
            claim.job.id,
            claim.lease,
            { code: 'MODEL_RUN_FAILED', message: 'x' },
            { retryable: false },
          )
      }
      const queued = (await queue.list({ state: 'queued' }, { limit: 10 })).jobs
      await charged.cancel(queued[0].id)
      await charged.cancel(queued[1].id)
      expect(await charged.purge()).toBe(2)

      const oneImage = costMilli({ ...mine(1) }, FACTORS)
      const spent = 3 * cost + oneImage
      expect(await ledger.balance(key.id)).toBe(10 * cost - spent)
      expect(await ledger.ledgerTotal(key.id)).toBe(10 * cost - spent)
      expect((await keys.get(key.id))?.activeJobs).toBe(0)

      const usage = await new UsageRepo(handle).perKey({
        from: new Date(0),
        to: new Date(Date.now() + 60_000),
      })
      expect(usage).toEqual([
        expect.objectContaining({
          keyId: key.id,
          jobs: 10,
          succeeded: 4,
          failed: 2,
          canceled: 4,
          images: 7,
          credits: spent / 1000,
        }),
      ])
      expect(usage[0].megapixelSteps).toBeCloseTo((7 * 64 * 64 * 4) / 2 ** 20, 3)
    })

    it('refunds a submission the queue refused', async () => {
      const { key } = await keys.create({ name: 'k', creditsMilli: 1_000_000 })
      const full = new DbQueue(handle, { exclusive: true, maxQueued: 1 })
      const guarded = chargeQueue(full, {
        ledger,
        settler: new JobSettler(ledger, { factors: {} }),
        factors: {},
      })
      const mine = sampleRequest({ origin: { keyId: key.id, source: 'native' } })
      await guarded.enqueue(mine)
      const refused = await guarded.enqueue(mine).catch((e: unknown) => e)
      expect(isPigmentError(refused, 'QUEUE_FULL')).toBe(true)
      expect(await ledger.balance(key.id)).toBe(1_000_000 - costMilli(mine))
      expect((await keys.get(key.id))?.activeJobs).toBe(1)
      await full.close()
    })
  })
}
