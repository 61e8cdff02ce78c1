import { describe, expect, it } from 'vitest'
import { isDatabaseOutage } from './outage.js'

function withCode(message: string, code: string): Error {
  return Object.assign(new Error(message), { code })
}

describe('isDatabaseOutage', () => {
  it('recognises refused, dropped and shutting-down connections, also as a cause', () => {
    expect(isDatabaseOutage(withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'))).toBe(true)
    expect(isDatabaseOutage(withCode('terminating connection due to administrator command', '57P01'))).toBe(
      true,
    )
    expect(isDatabaseOutage(withCode('the database system is starting up', '57P03'))).toBe(true)
    expect(isDatabaseOutage(new Error('Connection terminated unexpectedly'))).toBe(true)
    expect(isDatabaseOutage(new Error('wrapped', { cause: withCode('x', '08006') }))).toBe(true)
    expect(isDatabaseOutage(new AggregateError([withCode('a', 'ECONNREFUSED')]))).toBe(true)
  })

  it('leaves bugs and constraint violations alone', () => {
    expect(isDatabaseOutage(new TypeError('undefined is not a function'))).toBe(false)
    expect(isDatabaseOutage(withCode('duplicate key value violates unique constraint', '23505'))).toBe(false)
    expect(isDatabaseOutage('ECONNREFUSED')).toBe(false)
  })
})
