/**
 * DPM-2: a midpoint method in log σ, k-diffusion's "DPM-Solver-2"-inspired sampler.
 * @module
 */
import type { Denoiser } from '../types.js'
import { VectorSpace } from '../vector-ops.js'
import { endStep, evaluate, type SamplerOptions } from './common.js'

export interface Midpoint {
  readonly sigmaMid: number
  /** The model's estimate at the midpoint state (valid until the next model call). */
  readonly denoised: Float32Array
}

/**
 * The first half of a DPM-2 step σ → σ_to (Lu et al. 2022, DPM-Solver-2; Karras et al. 2022 Algorithm 2): an
 * Euler half step to the log-midpoint σ_mid = √(σ·σ_to) into `midpoint`, and the model call there. The full
 * step is then x ← x + d_mid·(σ_to − σ) with d_mid = (x_mid − D_mid)/σ_mid.
 */
export async function dpm2Midpoint(
  v: VectorSpace,
  denoise: Denoiser,
  x: Float32Array,
  denoised: Float32Array,
  sigma: number,
  sigmaTo: number,
  midpoint: Float32Array,
): Promise<Midpoint> {
  const sigmaMid = Math.exp(Math.log(sigma) + 0.5 * (Math.log(sigmaTo) - Math.log(sigma)))
  // x_mid = x + d·(σ_mid − σ) = (σ_mid/σ)·x + (1 − σ_mid/σ)·D
  const ratio = sigmaMid / sigma
  v.combine2(midpoint, ratio, x, 1 - ratio, denoised)
  return { sigmaMid, denoised: await evaluate(denoise, midpoint, sigmaMid) }
}

/** k-diffusion `sample_dpm_2` without churn; the step to σ' = 0 is Euler (one model call). */
export async function sampleDpm2(
  denoise: Denoiser,
  input: Float32Array,
  sigmas: Float64Array,
  options: SamplerOptions,
): Promise<Float32Array> {
  const v = new VectorSpace(input.length, 2)
  const x = v.copyOf(input)
  const midpoint = v.vector()
  for (let i = 0; i < sigmas.length - 1; i++) {
    const sigma = sigmas[i]
    const sigmaNext = sigmas[i + 1]
    let denoised = await evaluate(denoise, x, sigma)
    if (sigmaNext === 0) {
      // Euler to 0 lands on D: x + d·(0 − σ) = 0·x + 1·D
      v.combine2(x, 0, x, 1, denoised)
    } else {
      const mid = await dpm2Midpoint(v, denoise, x, denoised, sigma, sigmaNext, midpoint)
      denoised = mid.denoised
      // x ← x + (x_mid − D_mid)/σ_mid·(σ' − σ)
      const c = (sigmaNext - sigma) / mid.sigmaMid
      v.combine3(x, 1, x, c, midpoint, -c, denoised)
    }
    endStep(options, i, sigmas, x, denoised)
  }
  return v.result(x)
}
