/**
 * Heun's second-order method on the probability-flow ODE.
 * @module
 */
import type { Denoiser } from '../types.js'
import { endStep, evaluate, type SamplerOptions } from './common.js'

/**
 * Heun steps, Algorithm 1/2 of Karras et al. 2022 without churn: an Euler predictor to σ', then the trapezoidal
 * corrector x ← x + ½(d + d')(σ' − σ). The step to σ' = 0 stays Euler (one model call).
 */
export async function sampleHeun(
  denoise: Denoiser,
  input: Float32Array,
  sigmas: Float64Array,
  options: SamplerOptions,
): Promise<Float32Array> {
  const x = input.slice()
  const d = new Float32Array(x.length)
  const predicted = new Float32Array(x.length)
  for (let i = 0; i < sigmas.length - 1; i++) {
    const sigma = sigmas[i]
    const sigmaNext = sigmas[i + 1]
    let denoised = await evaluate(denoise, x, sigma)
    const dt = sigmaNext - sigma
    if (sigmaNext === 0) {
      for (let k = 0; k < x.length; k++) x[k] += ((x[k] - denoised[k]) / sigma) * dt
    } else {
      for (let k = 0; k < x.length; k++) {
        d[k] = (x[k] - denoised[k]) / sigma
        predicted[k] = x[k] + d[k] * dt
      }
      denoised = await evaluate(denoise, predicted, sigmaNext)
      for (let k = 0; k < x.length; k++) {
        const dNext = (predicted[k] - denoised[k]) / sigmaNext
        x[k] += ((d[k] + dNext) / 2) * dt
      }
    }
    endStep(options, i, sigmas, x, denoised)
  }
  return x
}
