/**
 * Improved PNDM samplers (`ipndm`, `ipndm_v`): Adams–Bashforth steps on the PF-ODE derivative, ComfyUI's port
 * of zju-pi/diff-sampler (Zhang & Chen 2023, "Fast Sampling of Diffusion Models with Exponential Integrator",
 * iPNDM; Zhou et al. 2024 for the variable-step form).
 * @module
 */
import type { Denoiser } from '../types.js'
import { VectorSpace } from '../vector-ops.js'
import { endStep, evaluate, type SamplerOptions } from './common.js'

const MAX_ORDER = 4

type Weights = (sigmas: Float64Array, i: number, order: number) => number[]

/** Fixed-step Adams–Bashforth weights (newest first), used whatever the step sizes. */
const fixedWeights: Weights = (_sigmas, _i, order) => {
  if (order === 1) return [1]
  if (order === 2) return [3 / 2, -1 / 2]
  if (order === 3) return [23 / 12, -16 / 12, 5 / 12]
  return [55 / 24, -59 / 24, 37 / 24, -9 / 24]
}

/** Variable-step Adams–Bashforth weights (newest first) from the step sizes h_n, h_{n−1}, … in σ. */
const variableWeights: Weights = (t, i, order) => {
  const hN = t[i + 1] - t[i]
  const hN1 = t[i] - t[i - 1]
  if (order === 1) return [1]
  if (order === 2) return [(2 + hN / hN1) / 2, -(hN / hN1) / 2]
  const hN2 = t[i - 1] - t[i - 2]
  const temp1 = (1 - (hN / (3 * (hN + hN1))) * ((hN * (hN + hN1)) / (hN1 * (hN1 + hN2)))) / 2
  if (order === 3) {
    return [(2 + hN / hN1) / 2 + temp1, -(hN / hN1) / 2 - (1 + hN1 / hN2) * temp1, (temp1 * hN1) / hN2]
  }
  const hN3 = t[i - 2] - t[i - 3]
  const temp2 =
    ((1 - hN / (3 * (hN + hN1))) / 2 + ((1 - hN / (2 * (hN + hN1))) * hN) / (6 * (hN + hN1 + hN2))) *
    ((hN * (hN + hN1) * (hN + hN1 + hN2)) / (hN1 * (hN1 + hN2) * (hN1 + hN2 + hN3)))
  const ratio = (hN1 * (hN1 + hN2)) / (hN2 * (hN2 + hN3))
  return [
    (2 + hN / hN1) / 2 + temp1 + temp2,
    -(hN / hN1) / 2 - (1 + hN1 / hN2) * temp1 - (1 + hN1 / hN2 + ratio) * temp2,
    (temp1 * hN1) / hN2 + (hN1 / hN2 + ratio * (1 + hN2 / hN3)) * temp2,
    (-temp2 * ratio * hN1) / hN2,
  ]
}

async function adamsBashforth(
  weights: Weights,
  denoise: Denoiser,
  input: Float32Array,
  sigmas: Float64Array,
  options: SamplerOptions,
): Promise<Float32Array> {
  const v = new VectorSpace(input.length, 1 + MAX_ORDER)
  const x = v.copyOf(input)
  const history: Float32Array[] = [] // newest first
  for (let i = 0; i < sigmas.length - 1; i++) {
    const sigma = sigmas[i]
    const sigmaNext = sigmas[i + 1]
    const denoised = await evaluate(denoise, x, sigma)
    if (sigmaNext === 0) {
      x.set(denoised)
    } else {
      const d = history.length < MAX_ORDER ? v.vector() : history.pop()!
      history.unshift(d)
      const dt = sigmaNext - sigma
      const w = weights(sigmas, i, history.length).map((weight) => weight * dt)
      // d = (x − D)/σ, x ← x + (σ' − σ)·Σ_j w_j·d_{i−j}
      v.multistep(d, x, denoised, 1 / sigma, w, history.slice(1))
    }
    endStep(options, i, sigmas, x, denoised)
  }
  return v.result(x)
}

/** iPNDM: fourth-order Adams–Bashforth with lower-order warm-up; the step to σ' = 0 returns D. */
export function sampleIpndm(
  denoise: Denoiser,
  x: Float32Array,
  sigmas: Float64Array,
  options: SamplerOptions,
): Promise<Float32Array> {
  return adamsBashforth(fixedWeights, denoise, x, sigmas, options)
}

/** iPNDM with variable-step coefficients (`ipndm_v`). */
export function sampleIpndmV(
  denoise: Denoiser,
  x: Float32Array,
  sigmas: Float64Array,
  options: SamplerOptions,
): Promise<Float32Array> {
  return adamsBashforth(variableWeights, denoise, x, sigmas, options)
}
