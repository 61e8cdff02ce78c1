import { describe, expect, it } from 'vitest'
import { createNoiseSource, TorchGenerator, torchRandn } from './torch-randn.js'

/** The float32 nearest to a printed torch value: equal to torch's value when it was printed with 8 digits. */
function expectTorchValues(actual: Float32Array, expected: Record<number, number>): void {
  for (const [index, value] of Object.entries(expected)) {
    expect(actual[Number(index)], `element ${index}`).toBe(Math.fround(value))
  }
}

describe('torchRandn: spec §8.2 reference values (torch CPU float32)', () => {
  it('seed 0, shape [1, 4, 8, 8]', () => {
    const noise = torchRandn(0, [1, 4, 8, 8])
    expect(noise.length).toBe(256)
    expectTorchValues(noise, {
      0: -1.1258398,
      1: -1.1523602,
      2: -0.25057858,
      3: -0.43387881,
      8: 0.32227492,
      9: -1.2633348,
      255: 0.39039579,
    })
  })

  it('seed 42, shape [1, 4, 8, 8]', () => {
    expectTorchValues(torchRandn(42, [1, 4, 8, 8]), {
      0: 1.9269153,
      1: 1.4872841,
      2: 0.9007172,
      3: -2.105521,
      8: -0.75213528,
    })
  })

  it('seed 42, shape [1, 4, 5, 5]: the last 16 values are redrawn (numel mod 16 ≠ 0)', () => {
    const noise = torchRandn(42, [1, 4, 5, 5])
    expectTorchValues(noise, { 84: 0.6407553, 99: 0.61728072 })
    // Everything before the redrawn tail equals a 96-element draw (six whole blocks of 16).
    expect(noise.subarray(0, 84)).toEqual(torchRandn(42, [96]).subarray(0, 84))
  })

  it('seed 42, shape [2]: the float64 path for fewer than 16 values', () => {
    expectTorchValues(torchRandn(42, [2]), { 0: 0.33669037, 1: 0.12880941 })
    // torch.manual_seed(0); torch.randn(6) → [1.5410, -0.2934, -2.1788, 0.5684, -1.0845, -1.3986]
    const small = torchRandn(0, [2, 3])
    ;[1.541, -0.2934, -2.1788, 0.5684, -1.0845, -1.3986].forEach((value, i) => {
      expect(small[i]).toBeCloseTo(value, 4)
    })
  })
})

describe('seeds and streams', () => {
  it('uses the low 32 bits of the seed; bigint seeds work', () => {
    const expected = torchRandn(42, [1, 4, 8, 8])
    expect(torchRandn(2 ** 32 + 42, [1, 4, 8, 8])).toEqual(expected)
    expect(torchRandn(2n ** 32n + 42n, [1, 4, 8, 8])).toEqual(expected)
    expect(torchRandn(42n, [1, 4, 8, 8])).toEqual(expected)
    expect(torchRandn(2n ** 64n - 1n, [20]).length).toBe(20)
    expect(torchRandn(43, [16])).not.toEqual(expected.subarray(0, 16))
  })

  it('continues one stream across calls, like the global generator', () => {
    const generator = new TorchGenerator(7)
    const first = generator.randn(32)
    const second = generator.randn(32)
    const whole = torchRandn(7, [64])
    expect(first).toEqual(whole.subarray(0, 32))
    expect(second).toEqual(whole.subarray(32))
    // The float64 path caches r·sin θ: two draws of one value equal one draw of two.
    const single = new TorchGenerator(42)
    expect([single.randn(1)[0], single.randn(1)[0]]).toEqual(Array.from(torchRandn(42, [2])))
    single.manualSeed(42)
    expect(single.randn(2)).toEqual(torchRandn(42, [2]))
  })

  it('makes a noise source whose first draw is the seed noise', () => {
    const noise = createNoiseSource(123)
    expect(noise(100)).toEqual(torchRandn(123, [100]))
    expect(noise(100)).not.toEqual(torchRandn(123, [100]))
  })

  it('handles empty and rejects bad shapes', () => {
    expect(torchRandn(0, [0, 4]).length).toBe(0)
    expect(() => torchRandn(0, [2, -1])).toThrow(RangeError)
    expect(() => torchRandn(0, [1.5])).toThrow(RangeError)
    expect(() => new TorchGenerator(0).randn(-1)).toThrow(RangeError)
  })
})

describe('statistics', () => {
  it('has mean ≈ 0 and variance ≈ 1 over 1e6 values', () => {
    const values = torchRandn(2024, [1_000_003])
    let sum = 0
    let sumSquares = 0
    for (const v of values) {
      sum += v
      sumSquares += v * v
    }
    const mean = sum / values.length
    // standard errors: 1e-3 for the mean, 1.4e-3 for the variance
    expect(Math.abs(mean)).toBeLessThan(5e-3)
    expect(Math.abs(sumSquares / values.length - mean * mean - 1)).toBeLessThan(1e-2)
    expect(values.every(Number.isFinite)).toBe(true)
  })
})
