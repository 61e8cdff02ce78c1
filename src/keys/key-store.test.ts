import { afterAll, beforeEach, describe, expect, it } from 'vitest'
import type { DatabaseHandle } from '../db/connect.js'
import { clearTables, openTestDatabase, testDialects } from '../db/test-databases.js'
import { creditsToMilli, parseExpiry } from './key-record.js'
import { KeyStore } from './key-store.js'
import { parseKeyToken } from './key-token.js'

const T0 = Date.UTC(2026, 10, 1)

for (const target of await testDialects()) {
  describe.skipIf(!target.available)(`KeyStore on ${target.title}`, () => {
    let handle: DatabaseHandle
    let now = T0
    let store: KeyStore
    beforeEach(async () => {
      handle ??= await openTestDatabase(target.dialect)
      await clearTables(handle)
      now = T0
      store = new KeyStore(handle, { clock: () => now })
    })
    afterAll(async () => {
      await handle?.close()
    })

    it('returns the token once and stores only a hash of its secret', async () => {
      const { key, token } = await store.create({ name: 'ci', role: 'user', creditsMilli: 5000, rpm: 60 })
      const parsed = parseKeyToken(token)
      expect(parsed?.id).toBe(key.id)
      const rows = await handle.db.selectFrom('api_keys').selectAll().execute()
      expect(JSON.stringify(rows)).not.toContain(parsed?.secret)
      expect(await store.lookup(key.id, parsed?.secret ?? '')).toMatchObject({
        outcome: 'ok',
        key: { name: 'ci' },
      })
      expect(await store.lookup(key.id, `${parsed?.secret.slice(0, -1)}x`)).toEqual({ outcome: 'unknown' })
      expect(await store.lookup('0000000000000000', parsed?.secret ?? '')).toEqual({ outcome: 'unknown' })
    })

    it('tells revoked and expired keys apart from unknown ones, and counts only usable keys', async () => {
      const a = await store.create({ name: 'a', expiresAt: new Date(T0 + 1000) })
      now += 1
      const b = await store.create({ name: 'b' })
      expect(await store.hasUsableKeys()).toBe(true)
      await store.revoke(b.key.id)
      const secretOf = (token: string) => parseKeyToken(token)?.secret ?? ''
      expect((await store.lookup(b.key.id, secretOf(b.token))).outcome).toBe('revoked')
      now = T0 + 1000
      expect((await store.lookup(a.key.id, secretOf(a.token))).outcome).toBe('expired')
      expect(await store.hasUsableKeys()).toBe(false)
      expect((await store.list()).map((key) => key.name)).toEqual(['a', 'b'])
    })

    it('writes every balance change to the ledger, so the ledger sums to the balance', async () => {
      const { key } = await store.create({ name: 'k', creditsMilli: 2000 })
      await store.update(key.id, { creditsMilli: 3500, rpm: 5, name: 'renamed' })
      expect(await store.addCredits(key.id, -500)).toMatchObject({ creditsMilli: 3000 })
      expect(await store.addCredits(key.id, -5000)).toBeNull()
      const entries = await handle.db
        .selectFrom('credit_ledger')
        .selectAll()
        .where('key_id', '=', key.id)
        .execute()
      expect(entries.map((entry) => [entry.kind, Number(entry.amount_milli)])).toEqual([
        ['grant', 2000],
        ['adjust', 1500],
        ['adjust', -500],
      ])
      expect(await store.get(key.id)).toMatchObject({ name: 'renamed', rpm: 5, creditsMilli: 3000 })
      // unlimited and back: the ledger goes to 0 and starts again from the new grant
      await store.update(key.id, { creditsMilli: null })
      await store.update(key.id, { creditsMilli: 700 })
      const total = await handle.db
        .selectFrom('credit_ledger')
        .select((eb) => eb.fn.sum<string | number>('amount_milli').as('total'))
        .where('key_id', '=', key.id)
        .executeTakeFirst()
      expect(Number(total?.total)).toBe(700)
      expect(await store.update('missing', { name: 'x' })).toBeNull()
    })
  })
}

describe('parseExpiry', () => {
  const now = new Date(T0)
  it.each([
    ['30d', T0 + 30 * 86_400_000],
    ['12h', T0 + 12 * 3_600_000],
    ['2027-01-31', Date.UTC(2027, 0, 31)],
    ['2027-01-31T12:00:00Z', Date.UTC(2027, 0, 31, 12)],
  ])('%s', (text, expected) => {
    expect(parseExpiry(text, now).getTime()).toBe(expected)
  })

  it.each(['yesterday', '2020-01-01', '-5d', '2027-13-45', ''])('rejects %j', (text) => {
    expect(() => parseExpiry(text, now)).toThrow(RangeError)
  })
})

describe('creditsToMilli', () => {
  it('takes up to three decimals and nothing negative', () => {
    expect(creditsToMilli(12.345)).toBe(12_345)
    expect(creditsToMilli(0)).toBe(0)
    expect(() => creditsToMilli(1.2345)).toThrow(RangeError)
    expect(() => creditsToMilli(-1)).toThrow(RangeError)
    expect(() => creditsToMilli(Number.NaN)).toThrow(RangeError)
  })
})
