import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { discreteSampling, flowSampling } from '../model-sampling.js'
import type { ModelSampling } from '../types.js'
import { computeSigmas, SCHEDULER_NAMES, samplerSigmas } from './index.js'

const SAMPLINGS: Record<string, ModelSampling> = {
  'SD eps': discreteSampling(),
  'SD v': discreteSampling({ prediction: 'v' }),
  'flux μ 1.15': flowSampling({ mu: 1.15 }),
  'flow shift 1': flowSampling(),
  'SD3 shift 3': flowSampling({ shift: 3, multiplier: 1000 }),
}

/** ComfyUI `ddim_scheduler` picks table entries 1, 1 + c, … below M with c = max(⌊M/N⌋, 1). */
function ddimUniformLength(tableSize: number, steps: number): number {
  return Math.ceil((tableSize - 1) / Math.max(Math.floor(tableSize / steps), 1)) + 1
}

const scheduleCase = fc.record({
  scheduler: fc.constantFrom(...SCHEDULER_NAMES),
  sampling: fc.constantFrom(...Object.keys(SAMPLINGS)),
  steps: fc.integer({ min: 1, max: 100 }),
})

describe('schedule properties (every scheduler, both sampling kinds, 1–100 steps)', () => {
  it('gives finite, strictly decreasing sigmas that end at exactly 0', () => {
    fc.assert(
      fc.property(scheduleCase, ({ scheduler, sampling, steps }) => {
        const model = SAMPLINGS[sampling]
        const sigmas = computeSigmas(scheduler, steps, model)
        expect(sigmas.every(Number.isFinite)).toBe(true)
        expect(sigmas.at(-1)).toBe(0)
        for (let i = 1; i < sigmas.length; i++) expect(sigmas[i]).toBeLessThan(sigmas[i - 1])
        // float32 round trips (exp of log σ, (σ^{1/ρ})^ρ) may land an ulp above the table's σ_max
        expect(sigmas[0]).toBeLessThanOrEqual(model.sigmaMax * (1 + 1e-6))
        if (scheduler === 'ddim_uniform') {
          expect(sigmas.length).toBe(ddimUniformLength(model.sigmas.length, steps))
        } else if (scheduler === 'beta') {
          expect(sigmas.length).toBeLessThanOrEqual(steps + 1)
          expect(sigmas[0]).toBe(model.sigmaMax)
        } else {
          expect(sigmas.length).toBe(steps + 1)
        }
      }),
      { numRuns: 400 },
    )
  })

  it('keeps the step count for the discard-penultimate samplers', () => {
    fc.assert(
      fc.property(
        scheduleCase,
        fc.constantFrom('dpm_2', 'uni_pc'),
        ({ scheduler, sampling, steps }, sampler) => {
          const model = SAMPLINGS[sampling]
          const full = computeSigmas(scheduler, steps + 1, model)
          const sigmas = samplerSigmas(sampler, scheduler, steps, model)
          expect(sigmas.length).toBe(full.length - 1)
          expect(sigmas.at(-1)).toBe(0)
          expect(sigmas.at(-2)).toBe(full.at(-3))
        },
      ),
      { numRuns: 100 },
    )
  })
})
