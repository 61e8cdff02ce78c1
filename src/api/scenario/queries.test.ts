import { describe, expect, it } from 'vitest'
import type { Caller } from '../auth.js'
import {
  decodeAssetToken,
  encodeAssetToken,
  listOf,
  toAssetListPlan,
  toJobListPlan,
  toModelListPlan,
  toUsagePlan,
} from './queries.js'

const ADMIN: Caller = { keyId: null, role: 'admin', remainingCredits: null }
const USER: Caller = { keyId: 'key_u', role: 'user', remainingCredits: null }

describe('GET /jobs query', () => {
  it("defaults to Scenario's page of 10 and passes the token through", () => {
    expect(toJobListPlan({}, ADMIN)).toMatchObject({ empty: false, pageSize: 10, cursor: null, filter: {} })
    expect(toJobListPlan({ pageSize: 3, paginationToken: 'abc' }, ADMIN)).toMatchObject({
      pageSize: 3,
      cursor: 'abc',
    })
  })

  it('narrows the states to those that can show as the status asked', () => {
    expect(toJobListPlan({ status: 'in-progress' }, ADMIN)).toMatchObject({
      filter: { state: ['running'] },
      status: 'in-progress',
    })
    expect(toJobListPlan({ status: 'success' }, ADMIN).filter.state).toEqual(['succeeded', 'expired'])
    expect(toJobListPlan({ status: 'pending' }, ADMIN).empty).toBe(true)
  })

  it('matches nothing for other job types or workflows', () => {
    expect(toJobListPlan({ type: 'inference' }, ADMIN).empty).toBe(false)
    expect(toJobListPlan({ types: 'upscale,inference' }, ADMIN).empty).toBe(false)
    expect(toJobListPlan({ type: 'model-training' }, ADMIN).empty).toBe(true)
    expect(toJobListPlan({ workflowId: 'w' }, ADMIN).empty).toBe(true)
  })

  it('keeps a user key to its own jobs; an admin may pick an author', () => {
    expect(toJobListPlan({}, USER).filter).toEqual({ ownerKeyId: 'key_u' })
    expect(toJobListPlan({ authorId: 'key_other' }, USER).empty).toBe(true)
    expect(toJobListPlan({ authorId: 'key_other' }, ADMIN).filter).toEqual({ ownerKeyId: 'key_other' })
    expect(toJobListPlan({ authorId: 'anonymous' }, ADMIN).filter).toEqual({ ownerKeyId: null })
  })

  it('leaves hidden jobs out only when hideResults=false', () => {
    expect(toJobListPlan({}, ADMIN).excludeHidden).toBe(false)
    expect(toJobListPlan({ hideResults: 'true' }, ADMIN).excludeHidden).toBe(false)
    expect(toJobListPlan({ hideResults: 'false' }, ADMIN).excludeHidden).toBe(true)
  })
})

describe('GET /assets query', () => {
  it('defaults to 50 per page and lists succeeded jobs', () => {
    expect(toAssetListPlan({}, ADMIN)).toMatchObject({
      empty: false,
      pageSize: 50,
      jobFilter: { state: 'succeeded' },
    })
  })

  it('accepts every asset type of the document but only inference-txt2img matches', () => {
    expect(toAssetListPlan({ type: 'inference-txt2img' }, ADMIN).empty).toBe(false)
    expect(toAssetListPlan({ types: ['upscale', 'inference-txt2img'] }, ADMIN).empty).toBe(false)
    expect(toAssetListPlan({ type: 'upscale' }, ADMIN).empty).toBe(true)
    expect(() => toAssetListPlan({ type: 'photo' }, ADMIN)).toThrow(/type: unknown asset type "photo"/)
  })

  it('matches nothing for public assets, collections, tags and parents', () => {
    for (const query of [
      { privacy: 'public' as const },
      { collectionId: 'c' },
      { tags: 'x' },
      { parentAssetId: 'a' },
      { rootAssetId: 'a' },
    ]) {
      expect(toAssetListPlan(query, ADMIN).empty).toBe(true)
    }
  })

  it('reads date filters, bounding the jobs by the earliest "before"', () => {
    const plan = toAssetListPlan(
      { createdAfter: '2026-01-01T00:00:00Z', updatedBefore: '2026-02-01T00:00:00Z' },
      ADMIN,
    )
    expect(plan.createdAfter?.toISOString()).toBe('2026-01-01T00:00:00.000Z')
    expect(plan.jobFilter.createdBefore?.toISOString()).toBe('2026-02-01T00:00:00.000Z')
    expect(() => toAssetListPlan({ createdAfter: 'last week' }, ADMIN)).toThrow(/createdAfter/)
  })

  it('refuses ascending order, which Pigment cannot list', () => {
    expect(() => toAssetListPlan({ sortDirection: 'asc' }, ADMIN)).toThrow(/sortDirection/)
  })

  it('round-trips its pagination token and rejects tokens it did not make', () => {
    const position = { jobCursor: 'c1', jobIndex: 3, assetIndex: 2 }
    expect(decodeAssetToken(encodeAssetToken(position))).toEqual(position)
    expect(toAssetListPlan({ paginationToken: encodeAssetToken(position) }, ADMIN).start).toEqual(position)
    expect(() => decodeAssetToken('not-a-token')).toThrow(/paginationToken/)
    expect(() => decodeAssetToken(Buffer.from('["c",-1,0]').toString('base64url'))).toThrow(/paginationToken/)
  })
})

describe('GET /models query', () => {
  it('checks model types and pages with an offset token', () => {
    expect(toModelListPlan({ types: 'sd-xl,flux.1' }).types).toEqual(['sd-xl', 'flux.1'])
    expect(() => toModelListPlan({ type: 'dalle' })).toThrow(/type: unknown model type/)
    expect(toModelListPlan({}).pageSize).toBe(100)
    expect(() => toModelListPlan({ paginationToken: 'zzz' })).toThrow(/paginationToken/)
    expect(toModelListPlan({ privacy: 'public' }).empty).toBe(true)
    expect(toModelListPlan({ loadedOnly: 'true' }).loadedOnly).toBe(true)
  })
})

describe('GET /usages query', () => {
  const now = new Date('2026-03-01T00:00:00Z')

  it('takes a start and end date together, up to 120 days', () => {
    const plan = toUsagePlan({ startDate: '2026-02-01', endDate: '2026-02-10' }, ADMIN, now)
    expect(plan.from.toISOString()).toBe('2026-02-01T00:00:00.000Z')
    expect(plan.to.toISOString()).toBe('2026-02-10T00:00:00.000Z')
    expect(() => toUsagePlan({ startDate: '2026-02-01' }, ADMIN, now)).toThrow(/go together/)
    expect(() => toUsagePlan({ startDate: '2025-01-01', endDate: '2026-01-01' }, ADMIN, now)).toThrow(
      /120 days/,
    )
  })

  it('reads a time range, defaulting to 30 days', () => {
    expect(toUsagePlan({ timeRange: '7d' }, ADMIN, now).from.toISOString()).toBe('2026-02-22T00:00:00.000Z')
    // a job that ended in the very millisecond of the request is inside the range
    expect(toUsagePlan({ timeRange: '7d' }, ADMIN, now).to.getTime()).toBe(now.getTime() + 1)
    expect(toUsagePlan({}, ADMIN, now).from.toISOString()).toBe('2026-01-30T00:00:00.000Z')
    expect(() => toUsagePlan({ timeRange: 'forever' }, ADMIN, now)).toThrow(/timeRange/)
  })

  it('limits a user key to its own usage', () => {
    expect(toUsagePlan({}, USER, now).keyIds).toEqual(['key_u'])
    expect(toUsagePlan({ userId: 'key_u' }, USER, now)).toMatchObject({ keyIds: ['key_u'], empty: false })
    expect(toUsagePlan({ userId: 'key_other' }, USER, now).empty).toBe(true)
    expect(toUsagePlan({}, ADMIN, now).keyIds).toBeUndefined()
    expect(toUsagePlan({ userIds: 'a,b,a', userId: 'anonymous' }, ADMIN, now).keyIds).toEqual([
      null,
      'a',
      'b',
    ])
  })
})

describe('listOf', () => {
  it('splits commas and flattens repeats', () => {
    expect(listOf(['a,b', ' c '])).toEqual(['a', 'b', 'c'])
    expect(listOf(undefined)).toEqual([])
  })
})
