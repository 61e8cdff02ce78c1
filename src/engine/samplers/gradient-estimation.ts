/**
 * Gradient-estimation sampler, ComfyUI `sample_gradient_estimation`.
 * @module
 */
import type { Denoiser } from '../types.js'
import { endStep, evaluate, type SamplerOptions } from './common.js'

/** ComfyUI's default γ. */
const GAMMA = 2

/**
 * Euler plus a gradient-estimation correction (Permenter & Yuan 2024, "Interpreting and Improving Diffusion
 * Models from an Optimization Perspective"): x ← x + d·dt + (γ − 1)(d − d_prev)·dt from the second step on.
 * The step to σ' = 0 returns D.
 */
export async function sampleGradientEstimation(
  denoise: Denoiser,
  input: Float32Array,
  sigmas: Float64Array,
  options: SamplerOptions,
): Promise<Float32Array> {
  const x = input.slice()
  let d = new Float32Array(x.length)
  let previous = new Float32Array(x.length)
  for (let i = 0; i < sigmas.length - 1; i++) {
    const sigma = sigmas[i]
    const sigmaNext = sigmas[i + 1]
    const denoised = await evaluate(denoise, x, sigma)
    const dt = sigmaNext - sigma
    if (sigmaNext === 0) {
      for (let k = 0; k < x.length; k++) d[k] = (x[k] - denoised[k]) / sigma
      x.set(denoised)
    } else {
      // From the second step on: x += d·dt + (γ − 1)(d − d_prev)·dt.
      const c = i === 0 ? 0 : (GAMMA - 1) * dt
      for (let k = 0; k < x.length; k++) {
        const dk = (x[k] - denoised[k]) / sigma
        d[k] = dk
        x[k] += dk * dt + c * (dk - previous[k])
      }
    }
    ;[d, previous] = [previous, d]
    endStep(options, i, sigmas, x, denoised)
  }
  return x
}
