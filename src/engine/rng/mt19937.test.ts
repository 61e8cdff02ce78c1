import { describe, expect, it } from 'vitest'
import { lowSeedBits, Mt19937 } from './mt19937.js'

function firstOutputs(seed: number | bigint, count: number): number[] {
  const engine = new Mt19937(seed)
  return Array.from({ length: count }, () => engine.nextUint32())
}

describe('Mt19937', () => {
  it('matches std::mt19937 / torch for seeds 0 and 42 (spec §8.2)', () => {
    expect(firstOutputs(0, 3)).toEqual([2357136044, 2546248239, 3071714933])
    expect(firstOutputs(42, 3)).toEqual([1608637542, 3421126067, 4083286876])
  })

  it('gives 4123659995 as the 10000th output for the default seed 5489 (C++ [rand.predef])', () => {
    expect(firstOutputs(5489, 10000)[9999]).toBe(4123659995)
    const engine = new Mt19937()
    for (let i = 0; i < 9999; i++) engine.nextUint32()
    expect(engine.nextUint32()).toBe(4123659995)
  })

  it('uses only the low 32 bits of a 64-bit seed', () => {
    expect(firstOutputs(2 ** 32 + 42, 5)).toEqual(firstOutputs(42, 5))
    expect(firstOutputs(2n ** 32n + 42n, 5)).toEqual(firstOutputs(42, 5))
    expect(firstOutputs(42n, 5)).toEqual(firstOutputs(42, 5))
    expect(lowSeedBits(2n ** 64n - 1n)).toBe(0xffffffff)
  })

  it('rejects seeds outside 0 … 2^64 − 1', () => {
    for (const seed of [-1, 1.5, Number.NaN, 2n ** 64n, -1n])
      expect(() => new Mt19937(seed)).toThrow(RangeError)
  })
})
