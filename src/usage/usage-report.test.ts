import { afterAll, beforeEach, describe, expect, it } from 'vitest'
import { CreditLedger } from '../credits/credit-ledger.js'
import type { DatabaseHandle } from '../db/connect.js'
import { clearTables, openTestDatabase, testDialects } from '../db/test-databases.js'
import { UsageRepo } from './usage-report.js'

const DAY = 86_400_000
const T0 = Date.UTC(2026, 10, 1, 12)

for (const target of await testDialects()) {
  describe.skipIf(!target.available)(`UsageRepo on ${target.title}`, () => {
    let handle: DatabaseHandle
    let now = T0
    let ledger: CreditLedger
    beforeEach(async () => {
      handle ??= await openTestDatabase(target.dialect)
      await clearTables(handle)
      now = T0
      ledger = new CreditLedger(handle, { clock: () => now })
    })
    afterAll(async () => {
      await handle?.close()
    })

    async function finished(
      keyId: string | null,
      model: string,
      outcome: 'succeeded' | 'failed',
      at: number,
    ) {
      now = at
      const { chargeId } = await ledger.reserve({ keyId, model, costMilli: 3000 })
      await ledger.attach(chargeId, `job-${chargeId}`)
      const succeeded = outcome === 'succeeded'
      await ledger.settle(chargeId, {
        outcome,
        chargedMilli: succeeded ? 2500 : 0,
        images: succeeded ? 2 : 0,
        pixelSteps: succeeded ? 2 ** 21 : 0,
      })
    }

    it('sums per key over the time jobs ended, and per day and model', async () => {
      await finished('a', 'm1', 'succeeded', T0)
      await finished('a', 'm2', 'failed', T0 + 1000)
      await finished('b', 'm1', 'succeeded', T0 + DAY)
      await finished(null, 'm1', 'succeeded', T0 + 2 * DAY)
      const usage = new UsageRepo(handle)
      const all = await usage.perKey({ from: new Date(T0), to: new Date(T0 + 3 * DAY) })
      expect(all.find((row) => row.keyId === 'a')).toEqual({
        keyId: 'a',
        jobs: 2,
        succeeded: 1,
        failed: 1,
        canceled: 0,
        images: 2,
        megapixelSteps: 2,
        credits: 2.5,
      })
      expect(all.map((row) => row.keyId).sort()).toEqual(['a', 'b', null].sort())
      expect(
        await usage.perKey({ from: new Date(T0 + 1), to: new Date(T0 + DAY), keyId: 'a' }),
      ).toMatchObject([{ jobs: 1, failed: 1 }])
      expect(
        await usage.perKey({ from: new Date(0), to: new Date(T0 + 3 * DAY), keyId: null }),
      ).toMatchObject([{ keyId: null, jobs: 1 }])
      const days = await usage.daily({ from: new Date(T0), to: new Date(T0 + 2 * DAY) })
      expect(days).toEqual([
        { day: '2026-11-01T00:00:00.000Z', model: 'm1', jobs: 1, images: 2, credits: 2.5 },
        { day: '2026-11-01T00:00:00.000Z', model: 'm2', jobs: 1, images: 0, credits: 0 },
        { day: '2026-11-02T00:00:00.000Z', model: 'm1', jobs: 1, images: 2, credits: 2.5 },
      ])
    })
  })
}
