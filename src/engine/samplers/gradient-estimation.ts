/**
 * Gradient-estimation sampler, ComfyUI `sample_gradient_estimation`.
 * @module
 */
import type { Denoiser } from '../types.js'
import { VectorSpace } from '../vector-ops.js'
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
  const v = new VectorSpace(input.length, 3)
  const x = v.copyOf(input)
  let d = v.vector()
  let previous = v.vector()
  for (let i = 0; i < sigmas.length - 1; i++) {
    const sigma = sigmas[i]
    const sigmaNext = sigmas[i + 1]
    const denoised = await evaluate(denoise, x, sigma)
    const dt = sigmaNext - sigma
    if (sigmaNext === 0) {
      x.set(denoised)
    } else {
      // d = (x − D)/σ, x ← x + d·dt + (γ − 1)(d − d_prev)·dt (the correction from the second step on)
      const c = i === 0 ? 0 : (GAMMA - 1) * dt
      if (c === 0) v.multistep(d, x, denoised, 1 / sigma, [dt], [])
      else v.multistep(d, x, denoised, 1 / sigma, [dt + c, -c], [previous])
    }
    ;[d, previous] = [previous, d]
    endStep(options, i, sigmas, x, denoised)
  }
  return v.result(x)
}
