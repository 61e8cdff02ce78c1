import { describe, expect, it } from 'vitest'
import { fma32, log32, type SinCos, sincos32 } from './float32-math.js'

const f32 = Math.fround

describe('fma32', () => {
  it('rounds once, even where the float64 sum lands on a float32 midpoint', () => {
    // (1 + 2⁻²³)·(1 − 2⁻²³)·2⁻²⁴ + (1 + 2⁻²³) = 1 + 2⁻²³ + 2⁻²⁴ − 2⁻⁷⁰: just below the midpoint, so the
    // correctly rounded float32 is 1 + 2⁻²³; rounding the float64 sum again would give 1 + 2⁻²².
    const a = 1 + 2 ** -23
    const b = (1 - 2 ** -23) * 2 ** -24
    const c = 1 + 2 ** -23
    expect(f32(a * b + c)).toBe(1 + 2 ** -22)
    expect(fma32(a, b, c)).toBe(1 + 2 ** -23)
    expect(fma32(a, -b, -c)).toBe(-(1 + 2 ** -23))
  })

  it('equals the plain float32 result when the sum is exact', () => {
    expect(fma32(3, 0.5, 0.25)).toBe(1.75)
    expect(fma32(f32(0.1), 2, 1)).toBe(f32(f32(0.1) * 2 + 1))
  })
})

describe('log32 and sincos32 (avx_mathfun polynomials)', () => {
  it('stays within 2 float32 ulps of log on (0, 1]', () => {
    const inputs = [
      ...Array.from({ length: 4096 }, (_, k) => (k + 1) / 4096),
      ...Array.from({ length: 1024 }, (_, k) => (k + 1) * 2 ** -24),
      f32(Math.SQRT1_2),
      1 - 2 ** -24,
    ]
    let worstUlps = 0
    for (const x of inputs) {
      const expected = Math.log(x)
      const ulp = 2 ** (Math.floor(Math.log2(Math.abs(expected) || 2 ** -24)) - 23)
      worstUlps = Math.max(worstUlps, Math.abs(log32(x) - expected) / ulp)
    }
    expect(worstUlps).toBeLessThanOrEqual(2)
    expect(log32(1)).toBe(0)
  })

  it('stays within 3e-7 of sin and cos on [0, 2π)', () => {
    const out: SinCos = { sin: 0, cos: 0 }
    let worst = 0
    for (let k = 0; k < 8192; k++) {
      const theta = f32((2 * Math.PI * k) / 8192 + 1e-4)
      sincos32(theta, out)
      worst = Math.max(worst, Math.abs(out.sin - Math.sin(theta)), Math.abs(out.cos - Math.cos(theta)))
    }
    expect(worst).toBeLessThan(3e-7)
    sincos32(-1, out)
    expect(out.sin).toBeCloseTo(Math.sin(-1), 6)
    expect(out.cos).toBeCloseTo(Math.cos(-1), 6)
  })
})
