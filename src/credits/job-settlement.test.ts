import { afterAll, beforeEach, describe, expect, it } from 'vitest'
import type { Job } from '../core/job.js'
import type { DatabaseHandle } from '../db/connect.js'
import { clearTables, openTestDatabase } from '../db/test-databases.js'
import { sampleRequest } from '../jobs/test-requests.js'
import { KeyStore } from '../keys/key-store.js'
import { costMilli } from './cost.js'
import { CreditLedger } from './credit-ledger.js'
import { JobSettler, settlementOf } from './job-settlement.js'

function job(overrides: Partial<Job>): Job {
  return {
    id: 'j',
    state: 'queued',
    request: sampleRequest({ n: 3 }),
    priority: 0,
    attempts: 1,
    maxAttempts: 3,
    progress: null,
    error: null,
    assetIds: [],
    ownerKeyId: null,
    createdAt: new Date(0),
    startedAt: null,
    finishedAt: null,
    expiresAt: null,
    ...overrides,
  }
}

describe('settlementOf', () => {
  it('charges succeeded jobs for the images they made, and nothing for the rest', () => {
    const done = settlementOf(job({ state: 'succeeded', assetIds: ['a', 'b'] }), { 'tiny-sd': 3 })
    expect(done).toEqual({
      outcome: 'succeeded',
      images: 2,
      pixelSteps: 2 * 64 * 64 * 4,
      chargedMilli: costMilli({ ...sampleRequest(), n: 2 }, { 'tiny-sd': 3 }),
    })
    expect(settlementOf(job({ state: 'failed', error: { code: 'X', message: 'x' } }), {}).outcome).toBe(
      'failed',
    )
    expect(settlementOf(job({ state: 'canceled' }), {}).chargedMilli).toBe(0)
    expect(settlementOf(job({ state: 'expired', assetIds: ['a'] }), {}).outcome).toBe('succeeded')
    expect(settlementOf(job({ state: 'expired', error: { code: 'X', message: 'x' } }), {}).outcome).toBe(
      'failed',
    )
  })
})

describe('JobSettler.sweep', () => {
  let handle: DatabaseHandle
  beforeEach(async () => {
    handle ??= await openTestDatabase('sqlite')
    await clearTables(handle)
  })
  afterAll(async () => {
    await handle?.close()
  })

  it('settles ended and vanished jobs, leaves running ones, and refunds submissions that never got a job', async () => {
    let now = 1_000_000
    const clock = () => now
    const ledger = new CreditLedger(handle, { clock })
    const keys = new KeyStore(handle, { clock })
    const { key } = await keys.create({ name: 'k', creditsMilli: 100_000 })
    const settler = new JobSettler(ledger, { factors: {}, orphanAfterMs: 60_000, clock })
    const reserve = () => ledger.reserve({ keyId: key.id, model: 'tiny-sd', costMilli: 10_000 })
    const [done, running, vanished, orphan] = [
      await reserve(),
      await reserve(),
      await reserve(),
      await reserve(),
    ]
    await ledger.attach(done.chargeId, 'done')
    await ledger.attach(running.chargeId, 'running')
    await ledger.attach(vanished.chargeId, 'vanished')
    const jobs = new Map([
      ['done', job({ id: 'done', state: 'succeeded', assetIds: ['a'], request: sampleRequest() })],
      ['running', job({ id: 'running', state: 'running' })],
    ])
    const get = async (id: string) => jobs.get(id) ?? null

    expect(await settler.sweep({ get }, 1)).toBe(2)
    const kept = costMilli(sampleRequest())
    expect(await ledger.balance(key.id)).toBe(100_000 - kept - 2 * 10_000)
    now += 61_000
    expect(await settler.sweep({ get })).toBe(1)
    expect(await ledger.balance(key.id)).toBe(100_000 - kept - 10_000)
    expect((await ledger.chargeOfJob('running'))?.state).toBe('reserved')
    expect(orphan.chargeId).toBeDefined()
    expect(await ledger.ledgerTotal(key.id)).toBe(await ledger.balance(key.id))
  })
})
