/**
 * ComfyUI's `sample_unipc` writes 0.001 over a final σ = 0 in the very tensor KSAMPLER handed it
 * (`timesteps = sigmas[:]`, a view), so KSAMPLER's `inverse_noise_scaling(sigmas[-1], samples)` afterwards
 * divides a CONST (flow) model's result by 1 − 0.001 instead of 1 − 0. The case the oracle measured: a flow
 * model, the karras schedule, 10 steps, both variants.
 */
import { describe, expect, it } from 'vitest'
import { flowSampling } from '../model-sampling.js'
import { sample } from '../sample.js'
import { samplerSigmas } from '../schedules/index.js'
import type { Denoiser } from '../types.js'

/** Exact posterior mean of a flow model for x0 ~ N(0, 1). */
const denoise: Denoiser = (x, sigma) => x.map((v) => ((1 - sigma) * v) / ((1 - sigma) ** 2 + sigma ** 2))

describe('uni_pc on a CONST model with the karras schedule', () => {
  for (const sampler of ['uni_pc', 'uni_pc_bh2']) {
    it(`${sampler}: the result is divided by 1 − 0.001, as KSAMPLER does after ComfyUI's in-place write`, async () => {
      const sampling = flowSampling({ shift: 1, multiplier: 1 })
      const sigmas = samplerSigmas(sampler, 'karras', 10, sampling)
      expect(sigmas).toHaveLength(11)
      expect(sigmas[10]).toBe(0)
      const x = sampling.noiseScaling(sigmas[0], Float32Array.from([0.8, -0.3, 1.7]), null, true)
      const calls: number[] = []
      const counted: Denoiser = (latent, sigma) => {
        calls.push(sigma)
        return denoise(latent, sigma)
      }
      const scaled = await sample(sampler, counted, x, sigmas, { sampling })
      const raw = await sample(sampler, denoise, x, sigmas)
      // the formula: CONST inverse_noise_scaling(σ, latent) = latent / (1 − σ) in float32, at σ = f32(0.001)
      const keep = Math.fround(1 - Math.fround(0.001))
      for (let i = 0; i < x.length; i++) expect(scaled[i]).toBe(Math.fround(raw[i] / keep))
      // and not the identity a σ of 0 would give: about 0.1 % apart
      expect(Math.abs(scaled[2] / raw[2] - 1)).toBeGreaterThan(9e-4)
      // the sampler itself never evaluates the model at the altered σ (the last step is predictor only)
      expect(calls).toHaveLength(10)
      expect(calls).not.toContain(0.001)
      // the caller's schedule is not altered (Pigment copies; only the scaling follows ComfyUI)
      expect(sigmas[10]).toBe(0)
    })
  }
})
