/**
 * Euler on the probability-flow ODE. ComfyUI's `ddim` is this sampler too.
 * @module
 */
import type { Denoiser } from '../types.js'
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
  const x = input.slice()
  for (let i = 0; i < sigmas.length - 1; i++) {
    const sigma = sigmas[i]
    const sigmaNext = sigmas[i + 1]
    const denoised = await evaluate(denoise, x, sigma)
    const dt = sigmaNext - sigma
    for (let k = 0; k < x.length; k++) x[k] += ((x[k] - denoised[k]) / sigma) * dt
    endStep(options, i, sigmas, x, denoised)
  }
  return x
}
