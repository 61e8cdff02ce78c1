import { afterAll, beforeEach, describe, expect, it } from 'vitest'
import { isPigmentError } from '../core/errors.js'
import type { DatabaseHandle } from '../db/connect.js'
import { clearTables, openTestDatabase, testDialects } from '../db/test-databases.js'
import { KeyStore } from '../keys/key-store.js'
import { CreditLedger, type Reservation } from './credit-ledger.js'

const NOTHING = { chargedMilli: 0, images: 0, pixelSteps: 0 } as const

for (const target of await testDialects()) {
  describe.skipIf(!target.available)(`CreditLedger on ${target.title}`, () => {
    let handle: DatabaseHandle
    let keys: KeyStore
    let ledger: CreditLedger
    beforeEach(async () => {
      handle ??= await openTestDatabase(target.dialect)
      await clearTables(handle)
      keys = new KeyStore(handle)
      ledger = new CreditLedger(handle)
    })
    afterAll(async () => {
      await handle?.close()
    })

    async function expectReconciled(keyId: string, balance: number) {
      expect(await ledger.balance(keyId)).toBe(balance)
      expect(await ledger.ledgerTotal(keyId)).toBe(balance)
    }

    it('50 concurrent reservations on credits for exactly 10 → exactly 10 go through, never below zero', async () => {
      const { key } = await keys.create({ name: 'race', creditsMilli: 10 * 1234 })
      const attempts = await Promise.allSettled(
        Array.from({ length: 50 }, () => ledger.reserve({ keyId: key.id, model: 'm', costMilli: 1234 })),
      )
      const accepted = attempts.filter((a) => a.status === 'fulfilled')
      const refused = attempts.filter((a) => a.status === 'rejected')
      expect(accepted).toHaveLength(10)
      expect(refused.every((a) => isPigmentError(a.reason, 'CREDITS_INSUFFICIENT'))).toBe(true)
      const remaining = accepted.map((a) => a.value.remainingMilli).sort((x, y) => (x ?? 0) - (y ?? 0))
      expect(remaining[0]).toBe(0)
      await expectReconciled(key.id, 0)
    })

    it('settles what a job cost and refunds failures and cancels in full, exactly once', async () => {
      const { key } = await keys.create({ name: 'k', creditsMilli: 10_000 })
      const [ok, failed, canceled] = await Promise.all(
        [3000, 2000, 1000].map((costMilli) => ledger.reserve({ keyId: key.id, model: 'm', costMilli })),
      )
      await expectReconciled(key.id, 4000)
      expect(
        await ledger.settle(ok.chargeId, {
          outcome: 'succeeded',
          chargedMilli: 1500,
          images: 1,
          pixelSteps: 9,
        }),
      ).toBe(true)
      expect(await ledger.settle(ok.chargeId, { outcome: 'failed', ...NOTHING })).toBe(false)
      await ledger.settle(failed.chargeId, { outcome: 'failed', ...NOTHING })
      await ledger.settle(canceled.chargeId, { outcome: 'canceled', ...NOTHING })
      await expectReconciled(key.id, 8500)
      expect((await keys.get(key.id))?.activeJobs).toBe(0)
      const kinds = await handle.db
        .selectFrom('credit_ledger')
        .select(['kind', 'amount_milli'])
        .where('key_id', '=', key.id)
        .orderBy('id')
        .execute()
      expect(kinds.map((row) => row.kind).sort()).toEqual([
        'grant',
        'refund',
        'refund',
        'reserve',
        'reserve',
        'reserve',
        'settle',
      ])
    })

    it('a settlement never charges more than was reserved', async () => {
      const { key } = await keys.create({ name: 'k', creditsMilli: 5000 })
      const r = await ledger.reserve({ keyId: key.id, model: 'm', costMilli: 1000 })
      await ledger.settle(r.chargeId, {
        outcome: 'succeeded',
        chargedMilli: 99_999,
        images: 1,
        pixelSteps: 1,
      })
      await expectReconciled(key.id, 4000)
    })

    it('limits queued + running jobs per key with RATE_LIMITED and a Retry-After', async () => {
      const { key } = await keys.create({ name: 'k', concurrency: 2 })
      const first = await ledger.reserve({ keyId: key.id, model: 'm', costMilli: 1 })
      await ledger.reserve({ keyId: key.id, model: 'm', costMilli: 1 })
      const third = await ledger.reserve({ keyId: key.id, model: 'm', costMilli: 1 }).catch((e: unknown) => e)
      expect(isPigmentError(third, 'RATE_LIMITED')).toBe(true)
      expect((third as { retryAfterSeconds?: number }).retryAfterSeconds).toBeGreaterThanOrEqual(1)
      await ledger.settle(first.chargeId, { outcome: 'succeeded', ...NOTHING })
      await expect(ledger.reserve({ keyId: key.id, model: 'm', costMilli: 1 })).resolves.toBeDefined()
      // an unlimited balance is never debited and writes no ledger entries
      expect(await ledger.balance(key.id)).toBeNull()
      expect(await ledger.ledgerTotal(key.id)).toBe(0)
    })

    it('records keys that are not stored (configuration keys, auth off) without limiting them', async () => {
      const a = await ledger.reserve({ keyId: 'key_0123456789abcdef', model: 'm', costMilli: 10 ** 9 })
      const b = await ledger.reserve({ keyId: null, model: 'm', costMilli: 5 })
      expect([a.remainingMilli, b.remainingMilli]).toEqual([null, null])
      await ledger.attach(a.chargeId, 'job-a')
      expect((await ledger.chargeOfJob('job-a'))?.state).toBe('reserved')
    })

    it('pages through reserved charges in creation order', async () => {
      let now = 1_000_000
      const clocked = new CreditLedger(handle, { clock: () => now })
      const made: Reservation[] = []
      for (let i = 0; i < 5; i++) {
        made.push(await clocked.reserve({ keyId: null, model: 'm', costMilli: 1 }))
        now += i % 2
      }
      await clocked.settle(made[2].chargeId, { outcome: 'failed', ...NOTHING })
      await clocked.attach(made[0].chargeId, 'job-0')
      const first = await clocked.reserved({ limit: 2 })
      const rest = await clocked.reserved({ after: first[1], limit: 10 })
      expect([...first, ...rest].map((c) => c.chargeId)).toEqual([0, 1, 3, 4].map((i) => made[i].chargeId))
      expect(first[0].jobId).toBe('job-0')
    })
  })
}
