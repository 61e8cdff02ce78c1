/**
 * DPM-Solver++(2M), the deterministic second-order multistep solver.
 * @module
 */
import type { Denoiser } from '../types.js'
import { VectorSpace } from '../vector-ops.js'
import { endStep, evaluate, type SamplerOptions } from './common.js'

/**
 * DPM-Solver++(2M) (Lu et al. 2022, Algorithm 2) in t = −log σ for every model type (ComfyUI does not switch
 * to the flow λ here): x ← (σ'/σ)x − expm1(−h)·D̃ with D̃ = (1 + 1/2r)D − (1/2r)D_prev, r = h_prev/h. The first
 * step and the step to σ' = 0 are first order (the latter lands on D).
 */
export async function sampleDpmppTwoM(
  denoise: Denoiser,
  input: Float32Array,
  sigmas: Float64Array,
  options: SamplerOptions,
): Promise<Float32Array> {
  const v = new VectorSpace(input.length, 3)
  const x = v.copyOf(input)
  // D is copied in once and kept as the next step's D_prev.
  let current = v.vector()
  let previous = v.vector()
  for (let i = 0; i < sigmas.length - 1; i++) {
    const sigma = sigmas[i]
    const sigmaNext = sigmas[i + 1]
    const denoised = await evaluate(denoise, x, sigma)
    current.set(denoised)
    const ratio = sigmaNext / sigma
    if (sigmaNext === 0) {
      x.set(denoised)
    } else if (i === 0) {
      const c = -Math.expm1(-(Math.log(sigma) - Math.log(sigmaNext)))
      v.combine2(x, ratio, x, c, current)
    } else {
      const h = Math.log(sigma) - Math.log(sigmaNext)
      const hLast = Math.log(sigmas[i - 1]) - Math.log(sigma)
      const r = hLast / h
      const c = -Math.expm1(-h)
      const wNew = c * (1 + 1 / (2 * r))
      const wOld = -c / (2 * r)
      v.combine3(x, ratio, x, wNew, current, wOld, previous)
    }
    ;[current, previous] = [previous, current]
    endStep(options, i, sigmas, x, denoised)
  }
  return v.result(x)
}
