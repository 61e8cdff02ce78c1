/**
 * Heun's second-order method on the probability-flow ODE.
 * @module
 */
import type { Denoiser } from '../types.js'
import { VectorSpace } from '../vector-ops.js'
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
  const v = new VectorSpace(input.length, 2)
  const x = v.copyOf(input)
  const predicted = v.vector()
  for (let i = 0; i < sigmas.length - 1; i++) {
    const sigma = sigmas[i]
    const sigmaNext = sigmas[i + 1]
    let denoised = await evaluate(denoise, x, sigma)
    const ratio = sigmaNext / sigma
    if (sigmaNext === 0) {
      // Euler: x + d·(σ' − σ) = (σ'/σ)·x + (1 − σ'/σ)·D
      v.combine2(x, ratio, x, 1 - ratio, denoised)
    } else {
      // Predictor x̃ = x + d·dt = (σ'/σ)·x + (1 − σ'/σ)·D
      v.combine2(predicted, ratio, x, 1 - ratio, denoised)
      denoised = await evaluate(denoise, predicted, sigmaNext)
      // x + ½(d + d')·dt with d·dt = x̃ − x and d' = (x̃ − D')/σ': ½x + (½ + c)·x̃ − c·D', c = dt/2σ'
      const c = (sigmaNext - sigma) / (2 * sigmaNext)
      v.combine3(x, 0.5, x, 0.5 + c, predicted, -c, denoised)
    }
    endStep(options, i, sigmas, x, denoised)
  }
  return v.result(x)
}
