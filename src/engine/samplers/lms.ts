/**
 * Linear multistep (Adams–Bashforth in σ with variable steps), k-diffusion / ComfyUI `sample_lms`.
 * @module
 */
import type { Denoiser } from '../types.js'
import { VectorSpace } from '../vector-ops.js'
import { endStep, evaluate, type SamplerOptions } from './common.js'

const MAX_ORDER = 4

/** Three-point Gauss–Legendre rule: exact for the cubic Lagrange products that order 4 produces. */
const GAUSS_NODES = [-Math.sqrt(3 / 5), 0, Math.sqrt(3 / 5)]
const GAUSS_WEIGHTS = [5 / 9, 8 / 9, 5 / 9]

/**
 * ∫ from σ_i to σ_{i+1} of the Lagrange basis polynomial ℓ_j through σ_i, σ_{i−1}, …, σ_{i−order+1}
 * (k-diffusion `linear_multistep_coeff`, which integrates numerically; this integral is exact).
 */
export function linearMultistepCoefficient(
  sigmas: ArrayLike<number>,
  order: number,
  i: number,
  j: number,
): number {
  if (order - 1 > i) throw new RangeError(`order ${order} too high for step ${i}`)
  const basis = (tau: number) => {
    let product = 1
    for (let k = 0; k < order; k++) {
      if (k !== j) product *= (tau - sigmas[i - k]) / (sigmas[i - j] - sigmas[i - k])
    }
    return product
  }
  const a = sigmas[i]
  const b = sigmas[i + 1]
  const half = (b - a) / 2
  const mid = (a + b) / 2
  let integral = 0
  for (let q = 0; q < GAUSS_NODES.length; q++)
    integral += GAUSS_WEIGHTS[q] * basis(mid + half * GAUSS_NODES[q])
  return integral * half
}

/**
 * LMS of order up to 4 on the PF-ODE derivative d = (x − D)/σ. As in ComfyUI, the step to σ' = 0 returns D
 * (upstream k-diffusion integrates it instead).
 */
export async function sampleLms(
  denoise: Denoiser,
  input: Float32Array,
  sigmas: Float64Array,
  options: SamplerOptions,
): Promise<Float32Array> {
  const v = new VectorSpace(input.length, 1 + MAX_ORDER)
  const x = v.copyOf(input)
  // history[0] is the newest derivative; buffers rotate so no step allocates.
  const history: Float32Array[] = []
  for (let i = 0; i < sigmas.length - 1; i++) {
    const sigma = sigmas[i]
    const denoised = await evaluate(denoise, x, sigma)
    if (sigmas[i + 1] === 0) {
      x.set(denoised)
    } else {
      const d = history.length < MAX_ORDER ? v.vector() : history.pop()!
      history.unshift(d)
      const order = history.length
      const c = Array.from({ length: order }, (_, j) => linearMultistepCoefficient(sigmas, order, i, j))
      // d = (x − D)/σ, x ← x + Σ_j c_j·d_{i−j}
      v.multistep(d, x, denoised, 1 / sigma, c, history.slice(1))
    }
    endStep(options, i, sigmas, x, denoised)
  }
  return v.result(x)
}
