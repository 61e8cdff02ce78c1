import { describe, expect, it } from 'vitest'
import { isPigmentError } from '../../core/errors.js'
import { keyView, parseTime, toKeyChanges } from './views.js'

const NOW = new Date(Date.UTC(2026, 10, 1))

function failure(run: () => unknown) {
  try {
    run()
  } catch (error) {
    return error
  }
  throw new Error('expected a throw')
}

describe('toKeyChanges', () => {
  it('turns credits into milli-credits and expiries into dates; null means none', () => {
    expect(toKeyChanges({ name: 'a', credits: 1.25, rpm: null, expires: '30d' }, NOW)).toEqual({
      name: 'a',
      creditsMilli: 1250,
      rpm: null,
      expiresAt: new Date(NOW.getTime() + 30 * 86_400_000),
    })
    expect(toKeyChanges({ credits: null, expires: null }, NOW)).toEqual({
      creditsMilli: null,
      expiresAt: null,
    })
    expect(toKeyChanges({}, NOW)).toEqual({})
  })

  it.each([
    [{ credits: 0.0001 }, 'credits'],
    [{ expires: 'tomorrow' }, 'expires'],
    [{ expires: '2020-01-01' }, 'expires'],
  ])('rejects %j naming the field', (body, field) => {
    const error = failure(() => toKeyChanges(body, NOW))
    expect(isPigmentError(error, 'VALIDATION_FAILED')).toBe(true)
    expect((error as { field?: string }).field).toBe(field)
  })
})

describe('keyView', () => {
  it('shows credits, never milli-credits, and the status at this moment', () => {
    const view = keyView(
      {
        id: '0123456789abcdef',
        name: 'k',
        role: 'user',
        createdAt: NOW,
        lastUsedAt: null,
        expiresAt: NOW,
        revokedAt: null,
        creditsMilli: 1500,
        rpm: 3,
        concurrency: null,
        activeJobs: 1,
      },
      NOW,
    )
    expect(view).toMatchObject({
      credits: 1.5,
      status: 'expired',
      expiresAt: NOW.toISOString(),
      lastUsedAt: null,
    })
  })
})

describe('parseTime', () => {
  it('reads ISO dates and times, and falls back when absent', () => {
    expect(parseTime('from', '2026-11-01', NOW)).toEqual(new Date('2026-11-01'))
    expect(parseTime('from', undefined, NOW)).toBe(NOW)
    expect(
      isPigmentError(
        failure(() => parseTime('to', 'last week', NOW)),
        'VALIDATION_FAILED',
      ),
    ).toBe(true)
  })
})
