import { describe, expect, it } from 'vitest'
import { discreteSampling, flowSampling } from '../model-sampling.js'
import {
  computeSigmas,
  isSchedulerName,
  karrasSigmas,
  klOptimalSigmas,
  partialDenoiseSigmas,
  SCHEDULER_NAMES,
  samplerSigmas,
} from './index.js'

/** Element-wise |a − e| ≤ rel·|e| + abs (the spec's tables give 6 significant digits). */
function expectSigmas(actual: number[], expected: number[], rel = 1e-5, abs = 0): void {
  expect(actual.length).toBe(expected.length)
  actual.forEach((value, i) => {
    expect(Math.abs(value - expected[i]), `σ[${i}] = ${value}, expected ${expected[i]}`).toBeLessThanOrEqual(
      rel * Math.abs(expected[i]) + abs,
    )
  })
}

const sd = discreteSampling()
const flux = flowSampling({ mu: 1.15 })

// Spec §2.1: values produced by ComfyUI's own scheduler functions.
const SD_N10: Record<string, number[]> = {
  normal: [14.6146, 7.83988, 4.60917, 2.91831, 1.95016, 1.34493, 0.932358, 0.624977, 0.368658, 0.0291672, 0],
  sgm_uniform: [
    14.6146, 8.30717, 5.09241, 3.32507, 2.27973, 1.61558, 1.16286, 0.831884, 0.571189, 0.343705, 0,
  ],
  simple: [14.6146, 8.3028, 5.08776, 3.32108, 2.27646, 1.61289, 1.16058, 0.82986, 0.569285, 0.341674, 0],
  ddim_uniform: [
    8.39069, 5.13443, 3.34776, 2.29285, 1.62369, 1.16822, 0.835653, 0.57405, 0.346187, 0.0413144, 0,
  ],
  karras: [14.6146, 9.10293, 5.47839, 3.1686, 1.74942, 0.914073, 0.446918, 0.201398, 0.0819103, 0.0291672, 0],
  exponential: [
    14.6146, 7.32487, 3.67123, 1.84002, 0.922221, 0.462218, 0.231664, 0.11611, 0.0581946, 0.0291672, 0,
  ],
  beta: [14.6146, 11.5428, 7.37184, 4.3728, 2.61524, 1.61828, 1.02733, 0.654885, 0.39551, 0.199059, 0],
  linear_quadratic: [
    14.6146, 14.5416, 14.4685, 14.3954, 14.3223, 14.2493, 13.6208, 11.8817, 9.03185, 5.07128, 0,
  ],
  kl_optimal: [
    14.6146, 4.23235, 2.39372, 1.59707, 1.133, 0.815244, 0.572914, 0.372484, 0.195288, 0.0291672, 0,
  ],
}

const FLUX_N10: Record<string, number[]> = {
  simple: [1, 0.966014, 0.926647, 0.880513, 0.825702, 0.759511, 0.677987, 0.575103, 0.4412, 0.259758, 0],
  normal: [1, 0.96194, 0.917069, 0.863376, 0.797979, 0.716581, 0.612492, 0.474686, 0.283614, 0.000996524, 0],
  beta: [1, 0.987112, 0.957517, 0.911804, 0.847311, 0.759584, 0.642623, 0.491175, 0.30697, 0.115485, 0],
  linear_quadratic: [1, 0.995, 0.99, 0.985, 0.98, 0.975, 0.932, 0.813, 0.618, 0.347, 0],
}

describe('computeSigmas: spec §2.1 vectors', () => {
  for (const name of SCHEDULER_NAMES) {
    it(`${name}, SD table, 10 steps`, () => expectSigmas(computeSigmas(name, 10, sd), SD_N10[name]))
  }

  it('ddim_uniform gives 8 steps for N = 7 on the SD table', () => {
    expectSigmas(
      computeSigmas('ddim_uniform', 7, sd),
      [14.2651, 6.57065, 3.48545, 2.04731, 1.27206, 0.790061, 0.440309, 0.0413144, 0],
    )
  })

  it('beta N = 3 and single-step karras / normal', () => {
    expectSigmas(computeSigmas('beta', 3, sd), [14.6146, 3.67575, 0.762402, 0])
    expectSigmas(computeSigmas('karras', 1, sd), [14.6146, 0])
    expectSigmas(computeSigmas('normal', 1, sd), [14.6146, 0])
  })

  for (const [name, expected] of Object.entries(FLUX_N10)) {
    it(`${name}, Flux μ = 1.15, 10 steps`, () => expectSigmas(computeSigmas(name, 10, flux), expected))
  }

  it('simple, SD3 shift 3, 10 steps', () => {
    const sd3 = flowSampling({ shift: 3, multiplier: 1000 })
    expectSigmas(
      computeSigmas('simple', 10, sd3),
      [1, 0.964286, 0.923077, 0.875, 0.818182, 0.75, 0.666667, 0.5625, 0.428571, 0.25, 0],
    )
  })

  it('beta, Chroma template (shift 1, multiplier 1), 26 steps', () => {
    const chroma = flowSampling({ shift: 1, multiplier: 1 })
    const expected = [
      1, 0.992, 0.974, 0.95, 0.92, 0.885, 0.845, 0.803, 0.757, 0.709, 0.658, 0.606, 0.554, 0.501, 0.447,
      0.395, 0.343, 0.292, 0.244, 0.198, 0.156, 0.116, 0.081, 0.051, 0.027, 0.009, 0,
    ]
    // The spec prints these with three decimals.
    expectSigmas(computeSigmas('beta', 26, chroma), expected, 0, 5e-4)
  })

  it('returns float32 values', () => {
    for (const sigma of computeSigmas('karras', 10, sd)) expect(Math.fround(sigma)).toBe(sigma)
  })
})

describe('scheduler names and errors', () => {
  it("lists ComfyUI's schedulers in its order", () => {
    expect(SCHEDULER_NAMES).toEqual([
      'simple',
      'sgm_uniform',
      'karras',
      'exponential',
      'ddim_uniform',
      'beta',
      'normal',
      'linear_quadratic',
      'kl_optimal',
    ])
    expect(isSchedulerName('karras')).toBe(true)
    expect(isSchedulerName('Karras')).toBe(false)
    expect(isSchedulerName(3)).toBe(false)
  })

  it('rejects an unknown scheduler with the valid names', () => {
    expect(() => computeSigmas('cosine', 10, sd)).toThrow(RangeError)
    expect(() => computeSigmas('cosine', 10, sd)).toThrow(/cosine.*simple, sgm_uniform/)
  })

  it('rejects non-integer or non-positive steps', () => {
    for (const steps of [0, -1, 2.5, Number.NaN]) {
      expect(() => computeSigmas('simple', steps, sd)).toThrow(RangeError)
      expect(() => karrasSigmas(steps, 0.03, 14.6)).toThrow(RangeError)
    }
  })

  it('kl_optimal at one step is finite: [σ_max, 0]', () => {
    expectSigmas(klOptimalSigmas(1, sd.sigmaMin, sd.sigmaMax), [14.6146, 0])
  })
})

describe('samplerSigmas (ComfyUI KSampler.calculate_sigmas)', () => {
  it('drops the penultimate σ of a steps + 1 schedule for dpm_2 and uni_pc', () => {
    const longer = computeSigmas('karras', 11, sd)
    for (const sampler of ['dpm_2', 'dpm_2_ancestral', 'uni_pc', 'uni_pc_bh2']) {
      const sigmas = samplerSigmas(sampler, 'karras', 10, sd)
      expect(sigmas).toEqual([...longer.slice(0, 10), 0])
      expect(sigmas.length).toBe(11)
    }
  })

  it('leaves other samplers alone', () => {
    expect(samplerSigmas('euler', 'normal', 10, sd)).toEqual(computeSigmas('normal', 10, sd))
  })
})

describe('partialDenoiseSigmas (ComfyUI KSampler.set_steps)', () => {
  const sigmasFor = (steps: number) => computeSigmas('normal', steps, sd)

  it('keeps the tail of a longer schedule', () => {
    const partial = partialDenoiseSigmas(sigmasFor, 10, 0.5)
    expect(partial).toEqual(sigmasFor(20).slice(-11))
    expect(partial.length).toBe(11)
    expect(partial[0]).toBeLessThan(sd.sigmaMax)
    // ⌊10/0.3⌋ = 33
    expect(partialDenoiseSigmas(sigmasFor, 10, 0.3)).toEqual(sigmasFor(33).slice(-11))
  })

  it('uses the full schedule above 0.9999 and none at 0', () => {
    expect(partialDenoiseSigmas(sigmasFor, 10, 1)).toEqual(sigmasFor(10))
    expect(partialDenoiseSigmas(sigmasFor, 10, 0.99995)).toEqual(sigmasFor(10))
    expect(partialDenoiseSigmas(sigmasFor, 10, 0)).toEqual([])
  })
})
