/**
 * Heun++ (`heunpp2`), ComfyUI's port of Carzit's sd-webui-samplers-scheduler sampler.
 * @module
 */
import type { Denoiser } from '../types.js'
import { endStep, evaluate, type SamplerOptions } from './common.js'

/**
 * A three-stage Heun variant: Euler predictors to σ_{i+1} and σ_{i+2}, then the step σ_i → σ_{i+1} with the
 * derivatives weighted by w₂ = σ_{i+1}/3σ₀, w₃ = σ_{i+2}/3σ₀, w₁ = 1 − w₂ − w₃; the next-to-last step uses two
 * stages (weights from 2σ₀) and the last step is Euler. Without churn; ComfyUI's unused per-step noise draw is
 * not made.
 */
export async function sampleHeunpp2(
  denoise: Denoiser,
  input: Float32Array,
  sigmas: Float64Array,
  options: SamplerOptions,
): Promise<Float32Array> {
  const x = input.slice()
  const d = new Float32Array(x.length)
  const d2 = new Float32Array(x.length)
  const x2 = new Float32Array(x.length)
  const x3 = new Float32Array(x.length)
  const sEnd = sigmas[sigmas.length - 1]
  for (let i = 0; i < sigmas.length - 1; i++) {
    const sigma = sigmas[i]
    const sigmaNext = sigmas[i + 1]
    let denoised = await evaluate(denoise, x, sigma)
    const dt = sigmaNext - sigma
    if (sigmaNext === sEnd) {
      for (let k = 0; k < x.length; k++) x[k] += ((x[k] - denoised[k]) / sigma) * dt
    } else {
      for (let k = 0; k < x.length; k++) {
        d[k] = (x[k] - denoised[k]) / sigma
        x2[k] = x[k] + d[k] * dt
      }
      denoised = await evaluate(denoise, x2, sigmaNext)
      const dt2 = sigmas[i + 2] - sigmaNext
      for (let k = 0; k < x.length; k++) {
        d2[k] = (x2[k] - denoised[k]) / sigmaNext
        x3[k] = x2[k] + d2[k] * dt2
      }
      if (sigmas[i + 2] === sEnd) {
        const w2 = sigmaNext / (2 * sigmas[0])
        const w1 = 1 - w2
        for (let k = 0; k < x.length; k++) x[k] += (d[k] * w1 + d2[k] * w2) * dt
      } else {
        const sigmaNext2 = sigmas[i + 2]
        denoised = await evaluate(denoise, x3, sigmaNext2)
        const w = 3 * sigmas[0]
        const w2 = sigmaNext / w
        const w3 = sigmaNext2 / w
        const w1 = 1 - w2 - w3
        for (let k = 0; k < x.length; k++) {
          const d3 = (x3[k] - denoised[k]) / sigmaNext2
          x[k] += (w1 * d[k] + w2 * d2[k] + w3 * d3) * dt
        }
      }
    }
    endStep(options, i, sigmas, x, denoised)
  }
  return x
}
