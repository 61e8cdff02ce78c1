import { describe, expect, it } from 'vitest'
import { isId, newId } from './ids.js'

describe('newId', () => {
  it('sorts in creation order, also within one millisecond', () => {
    const ids = [newId(1_700_000_000_000), newId(1_700_000_000_000), newId(1_700_000_000_000)]
    ids.push(newId(1_700_000_000_001))
    expect([...ids].sort()).toEqual(ids)
    expect(new Set(ids).size).toBe(ids.length)
  })

  it('stays ordered when the clock steps back', () => {
    const a = newId(1_800_000_000_000)
    const b = newId(1_799_999_999_000)
    expect(b > a).toBe(true)
  })

  it('makes ids that isId accepts, and isId rejects traversal and junk', () => {
    expect(isId(newId())).toBe(true)
    for (const bad of ['', '../../etc/passwd', 'ABCDEFGHJKMNPQRSTVWXYZ0123', `${newId()}x`, 'u'.repeat(26)]) {
      expect(isId(bad)).toBe(false)
    }
  })
})
