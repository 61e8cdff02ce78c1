/**
 * Euler on the probability-flow ODE. ComfyUI's `ddim` is this sampler too.
 * @module
 */
import type { Denoiser } from '../types.js'
import { VectorSpace } from '../vector-ops.js'
import { endStep, evaluate, type SamplerOptions } from './common.js'

/**
 * Euler steps, Algorithm 2 of Karras et al. 2022 ("Elucidating the Design Space of Diffusion-Based Generative
 * Models") without churn: x ← x + d·(σ' − σ) with d = (x − D)/σ. At σ' = 0 this lands on D.
 */
export async function sampleEuler(
  denoise: Denoiser,
  input: Float32Array,
  sigmas: Float64Array,
  options: SamplerOptions,
): Promise<Float32Array> {
  const v = new VectorSpace(input.length, 1)
  const x = v.copyOf(input)
  for (let i = 0; i < sigmas.length - 1; i++) {
    const sigma = sigmas[i]
    const denoised = await evaluate(denoise, x, sigma)
    // x + (x − D)/σ·(σ' − σ) = (σ'/σ)·x + (1 − σ'/σ)·D
    const ratio = sigmas[i + 1] / sigma
    v.combine2(x, ratio, x, 1 - ratio, denoised)
    endStep(options, i, sigmas, x, denoised)
  }
  return v.result(x)
}
