import { describe, expect, it } from 'vitest'
import { ERROR_CODES, errorSpec, errors, isPigmentError, PigmentError, toPigmentError } from './errors.js'

describe('error catalog', () => {
  it('uses SCREAMING_SNAKE codes with HTTP statuses of 400 or above', () => {
    for (const code of ERROR_CODES) {
      expect(code).toMatch(/^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/)
      expect(errorSpec(code).httpStatus).toBeGreaterThanOrEqual(400)
    }
  })

  it('builds errors that carry their status, field and retry hint', () => {
    const invalid = errors.VALIDATION_FAILED('width must be a multiple of 8', { field: 'width' })
    expect(invalid).toBeInstanceOf(PigmentError)
    expect([invalid.code, invalid.httpStatus, invalid.field, invalid.retryable]).toEqual([
      'VALIDATION_FAILED',
      400,
      'width',
      false,
    ])
    const full = errors.QUEUE_FULL('queue is full', { retryAfterSeconds: 12 })
    expect([full.httpStatus, full.retryable, full.retryAfterSeconds]).toEqual([429, true, 12])
    expect(errors.GONE('expired').httpStatus).toBe(410)
    expect(errors.JOB_LEASE_LOST('lost').retryable).toBe(false)
  })

  it('wraps unknown throws as INTERNAL and keeps the cause', () => {
    const original = new TypeError('boom')
    const wrapped = toPigmentError(original)
    expect(wrapped.code).toBe('INTERNAL')
    expect(wrapped.httpStatus).toBe(500)
    expect(wrapped.cause).toBe(original)
    const known = errors.NOT_FOUND('nope')
    expect(toPigmentError(known)).toBe(known)
    expect(isPigmentError(known, 'NOT_FOUND')).toBe(true)
    expect(isPigmentError(original)).toBe(false)
  })
})
