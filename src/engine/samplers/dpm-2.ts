/**
 * DPM-2: a midpoint method in log σ, k-diffusion's "DPM-Solver-2"-inspired sampler.
 * @module
 */
import type { Denoiser } from '../types.js'
import { endStep, evaluate, type SamplerOptions } from './common.js'

/**
 * One DPM-2 step σ → σ_to with the derivative already known: an Euler half step to the log-midpoint
 * σ_mid = √(σ·σ_to), then the full step with the midpoint derivative (Lu et al. 2022, DPM-Solver-2; Karras et
 * al. 2022 Algorithm 2). Writes the new state into x and returns the midpoint estimate.
 */
export async function dpm2Step(
  denoise: Denoiser,
  x: Float32Array,
  d: Float32Array,
  sigma: number,
  sigmaTo: number,
  scratch: Float32Array,
): Promise<Float32Array> {
  const sigmaMid = Math.exp(Math.log(sigma) + 0.5 * (Math.log(sigmaTo) - Math.log(sigma)))
  const dtHalf = sigmaMid - sigma
  for (let k = 0; k < x.length; k++) scratch[k] = x[k] + d[k] * dtHalf
  const denoisedMid = await evaluate(denoise, scratch, sigmaMid)
  const dt = sigmaTo - sigma
  for (let k = 0; k < x.length; k++) x[k] += ((scratch[k] - denoisedMid[k]) / sigmaMid) * dt
  return denoisedMid
}

/** k-diffusion `sample_dpm_2` without churn; the step to σ' = 0 is Euler (one model call). */
export async function sampleDpm2(
  denoise: Denoiser,
  input: Float32Array,
  sigmas: Float64Array,
  options: SamplerOptions,
): Promise<Float32Array> {
  const x = input.slice()
  const d = new Float32Array(x.length)
  const scratch = new Float32Array(x.length)
  for (let i = 0; i < sigmas.length - 1; i++) {
    const sigma = sigmas[i]
    const sigmaNext = sigmas[i + 1]
    let denoised = await evaluate(denoise, x, sigma)
    if (sigmaNext === 0) {
      const dt = sigmaNext - sigma
      for (let k = 0; k < x.length; k++) x[k] += ((x[k] - denoised[k]) / sigma) * dt
    } else {
      for (let k = 0; k < x.length; k++) d[k] = (x[k] - denoised[k]) / sigma
      denoised = await dpm2Step(denoise, x, d, sigma, sigmaNext, scratch)
    }
    endStep(options, i, sigmas, x, denoised)
  }
  return x
}
