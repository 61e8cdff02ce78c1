/**
 * Euler ancestral: an Euler step to σ_down, then fresh noise back up to σ'. Flow models use ComfyUI's RF
 * variant, which rescales the signal so the state stays of the form (1−σ)x0 + σn.
 * @module
 */
import type { Denoiser } from '../types.js'
import { VectorSpace } from '../vector-ops.js'
import { ancestralStep, endStep, evaluate, rfAncestralStep, type SamplerOptions } from './common.js'

/**
 * Ancestral sampling with Euler steps (k-diffusion `sample_euler_ancestral`, after Ho et al. 2020 / Song et al.
 * 2021): σ → σ_down by Euler, then x += s_noise·σ_up·n. ComfyUI lands on D when σ_down = 0.
 */
export async function sampleEulerAncestral(
  denoise: Denoiser,
  input: Float32Array,
  sigmas: Float64Array,
  options: SamplerOptions,
): Promise<Float32Array> {
  if (options.flow) return sampleEulerAncestralRf(denoise, input, sigmas, options)
  const eta = options.eta ?? 1
  const v = new VectorSpace(input.length, 1)
  const x = v.copyOf(input)
  for (let i = 0; i < sigmas.length - 1; i++) {
    const sigma = sigmas[i]
    const denoised = await evaluate(denoise, x, sigma)
    const { sigmaDown, sigmaUp } = ancestralStep(sigma, sigmas[i + 1], eta)
    if (sigmaDown === 0) {
      x.set(denoised)
    } else {
      const n = options.noise(x.length)
      // x + d·(σ_down − σ) + s_noise·σ_up·n = (σ_down/σ)·x + (1 − σ_down/σ)·D + s_noise·σ_up·n
      const ratio = sigmaDown / sigma
      v.combine3(x, ratio, x, 1 - ratio, denoised, options.sNoise * sigmaUp, n)
    }
    endStep(options, i, sigmas, x, denoised)
  }
  return v.result(x)
}

/**
 * ComfyUI `sample_euler_ancestral_RF`: x ← (σ_down/σ)x + (1 − σ_down/σ)D, then (η > 0) x ← (α'/α_down)x +
 * s_noise·r·n. Lands on D when σ' = 0.
 */
async function sampleEulerAncestralRf(
  denoise: Denoiser,
  input: Float32Array,
  sigmas: Float64Array,
  options: SamplerOptions,
): Promise<Float32Array> {
  const eta = options.eta ?? 1
  const v = new VectorSpace(input.length, 1)
  const x = v.copyOf(input)
  for (let i = 0; i < sigmas.length - 1; i++) {
    const sigma = sigmas[i]
    const sigmaNext = sigmas[i + 1]
    const denoised = await evaluate(denoise, x, sigma)
    if (sigmaNext === 0) {
      x.set(denoised)
    } else {
      const { sigmaDown, alphaRatio, renoise } = rfAncestralStep(sigma, sigmaNext, eta)
      const ratio = sigmaDown / sigma
      if (eta > 0) {
        const n = options.noise(x.length)
        const amount = options.sNoise * renoise
        v.combine3(x, alphaRatio * ratio, x, alphaRatio * (1 - ratio), denoised, amount, n)
      } else {
        v.combine2(x, ratio, x, 1 - ratio, denoised)
      }
    }
    endStep(options, i, sigmas, x, denoised)
  }
  return v.result(x)
}
