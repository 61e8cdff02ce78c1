/**
 * Heun++ (`heunpp2`), ComfyUI's port of Carzit's sd-webui-samplers-scheduler sampler.
 * @module
 */
import type { Denoiser } from '../types.js'
import { VectorSpace } from '../vector-ops.js'
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
  const v = new VectorSpace(input.length, 3)
  const x = v.copyOf(input)
  const x2 = v.vector()
  const x3 = v.vector()
  const sEnd = sigmas[sigmas.length - 1]
  for (let i = 0; i < sigmas.length - 1; i++) {
    const sigma = sigmas[i]
    const sigmaNext = sigmas[i + 1]
    let denoised = await evaluate(denoise, x, sigma)
    const dt = sigmaNext - sigma
    // Euler x + d·dt with d = (x − D)/σ is (σ'/σ)·x + (1 − σ'/σ)·D.
    const ratio = sigmaNext / sigma
    if (sigmaNext === sEnd) {
      v.combine2(x, ratio, x, 1 - ratio, denoised)
    } else {
      // x₂ = x + d·dt, so d·dt = x₂ − x
      v.combine2(x2, ratio, x, 1 - ratio, denoised)
      denoised = await evaluate(denoise, x2, sigmaNext)
      const threeStages = sigmas[i + 2] !== sEnd
      const w = (threeStages ? 3 : 2) * sigmas[0]
      const w2 = sigmaNext / w
      const w3 = threeStages ? sigmas[i + 2] / w : 0
      const w1 = 1 - w2 - w3
      // d₂ = (x₂ − D₂)/σ'; x₃ = x₂ + d₂·(σ'' − σ') is needed before D₂ goes
      const c2 = (w2 * dt) / sigmaNext
      if (threeStages) {
        const c = (sigmas[i + 2] - sigmaNext) / sigmaNext
        v.combine2(x3, 1 + c, x2, -c, denoised)
      }
      // x ← x + (w₁d + w₂d₂)·dt = (1 − w₁)·x + (w₁ + c₂)·x₂ − c₂·D₂, c₂ = w₂·dt/σ'
      v.combine3(x, 1 - w1, x, w1 + c2, x2, -c2, denoised)
      if (threeStages) {
        const sigmaNext2 = sigmas[i + 2]
        denoised = await evaluate(denoise, x3, sigmaNext2)
        // x ← x + w₃·d₃·dt with d₃ = (x₃ − D₃)/σ''
        const c3 = (w3 * dt) / sigmaNext2
        v.combine3(x, 1, x, c3, x3, -c3, denoised)
      }
    }
    endStep(options, i, sigmas, x, denoised)
  }
  return v.result(x)
}
