import { describe, expect, it } from 'vitest'
import { betaCdf, betaQuantile, logGamma } from './beta-distribution.js'

describe('Beta distribution', () => {
  it('matches closed forms of ln Γ and I_x', () => {
    expect(logGamma(1)).toBeCloseTo(0, 14)
    expect(logGamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 13)
    expect(logGamma(10)).toBeCloseTo(Math.log(362880), 12)
    for (const x of [0.01, 0.2, 0.5, 0.77, 0.999]) {
      expect(betaCdf(x, 1, 1)).toBeCloseTo(x, 13)
      expect(betaCdf(x, 2, 1)).toBeCloseTo(x * x, 13)
      expect(betaCdf(x, 1, 3)).toBeCloseTo(1 - (1 - x) ** 3, 13)
      // arcsine distribution
      expect(betaCdf(x, 0.5, 0.5)).toBeCloseTo((2 / Math.PI) * Math.asin(Math.sqrt(x)), 13)
    }
  })

  it('inverts the CDF: Beta(0.6, 0.6) quantiles of spec §2.1 (scipy beta.ppf)', () => {
    const q = [1, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1]
    const expected = [
      1, 0.960415594, 0.87707825, 0.765982996, 0.637299009, 0.5, 0.362700991, 0.234017004, 0.12292175,
      0.0395844056,
    ]
    q.forEach((p, i) => {
      expect(Math.abs(betaQuantile(p, 0.6, 0.6) - expected[i])).toBeLessThan(1e-9)
    })
    expect(betaQuantile(0.5, 0.6, 0.6)).toBe(0.5)
  })

  it('round-trips', () => {
    for (const [a, b] of [
      [0.6, 0.6],
      [2, 5],
      [0.3, 1.7],
    ]) {
      for (const p of [1e-6, 0.01, 0.33, 0.5, 0.9, 0.999999]) {
        expect(betaCdf(betaQuantile(p, a, b), a, b)).toBeCloseTo(p, 12)
      }
    }
  })

  it('rejects bad arguments', () => {
    expect(() => betaQuantile(1.5, 0.6, 0.6)).toThrow(RangeError)
    expect(() => betaQuantile(0.5, 0, 0.6)).toThrow(RangeError)
  })
})
