/**
 * SA-Solver, the stochastic Adams predictor–corrector (`sa_solver`, `sa_solver_pece`), ComfyUI
 * `sample_sa_solver` with `comfy/k_diffusion/sa_solver.py`.
 * @module
 */
import { discreteSampling } from '../model-sampling.js'
import type { Denoiser } from '../types.js'
import { VectorSpace } from '../vector-ops.js'
import { endStep, evaluate, halfLogSnr, offsetFirstSigmaForSnr, type SamplerOptions } from './common.js'
import { solve } from './uni-pc.js'

const PREDICTOR_ORDER = 3
const CORRECTOR_ORDER = 4

/**
 * (1 + τ²)∫_s^t e^{(1+τ²)(x−t)} x^p dx for p = 0 … order−1, by the integration-by-parts recursion of
 * ComfyUI `compute_exponential_coeffs` (the factor e^{(1+τ²)t} taken out).
 */
function exponentialCoefficients(s: number, t: number, order: number, tau: number): number[] {
  const tauMul = 1 + tau ** 2
  const decay = Math.exp(-tauMul * (t - s))
  const product = Array.from({ length: order }, (_, p) => t ** p - s ** p * decay)
  const out: number[] = []
  for (let i = 0; i < order; i++) {
    let sum = 0
    let factor = 1 // i!/j!·(−1/(1+τ²))^{i−j}, built from j = i downwards
    for (let j = i; j >= 0; j--) {
      sum += factor * product[j]
      factor *= -j / tauMul
    }
    out.push(sum)
  }
  return out
}

/**
 * The b_i of SA-Solver (Xue et al. 2023, "SA-Solver: Stochastic Adams Solver for Fast Sampling of Diffusion
 * Models", eqs. 15 and 18): integrals of the Lagrange basis through `lambdas` against the exponential kernel
 * over [λ_s, λ_t], times α_t.
 */
export function stochasticAdamsCoefficients(
  sigmaNext: number,
  lambdas: readonly number[],
  lambdaS: number,
  lambdaT: number,
  tau: number,
): number[] {
  const n = lambdas.length
  const integrals = exponentialCoefficients(lambdaS, lambdaT, n, tau)
  const vandermondeT = Array.from({ length: n }, (_, p) => lambdas.map((lambda) => lambda ** p))
  const alphaT = sigmaNext * Math.exp(lambdaT)
  return solve(vandermondeT, integrals).map((b) => alphaT * b)
}

/**
 * SA-Solver in data prediction on the model's half-log-SNR λ (flow models offset a first σ ≥ 1): an Adams
 * predictor of order ≤ 3 with noise of strength τ, then an Adams–Moulton corrector of order ≤ 4 at the next
 * step reusing that step's single model call (PECE mode: an extra call on the corrected state). τ = η (default
 * 1) while percent_to_sigma(0.2) ≥ σ' > percent_to_sigma(0.8), else 0, as ComfyUI's default interval. Orders
 * are lowered towards the end of a schedule ending in 0; the last step returns D.
 */
async function saSolver(
  pece: boolean,
  denoise: Denoiser,
  input: Float32Array,
  schedule: Float64Array,
  options: SamplerOptions,
): Promise<Float32Array> {
  const sigmas = offsetFirstSigmaForSnr(schedule, options)
  const lambdas = Array.from(sigmas, (sigma) => halfLogSnr(sigma, options.flow))
  const sampling = options.sampling ?? discreteSampling()
  const eta = options.eta ?? 1
  const startSigma = sampling.percentToSigma(0.2)
  const endSigma = sampling.percentToSigma(0.8)
  const tauOf = (sigma: number) => (eta > 0 && startSigma >= sigma && sigma > endSigma ? eta : 0)
  const { sNoise } = options
  const lowerOrderToEnd = sigmas[sigmas.length - 1] === 0
  const maxOrder = Math.max(PREDICTOR_ORDER, CORRECTOR_ORDER)
  const v = new VectorSpace(input.length, 3 + maxOrder)
  let x = v.copyOf(input)
  let predicted = v.copyOf(input)
  // The predictor's noise draw, scaled by `noiseAmount`; the corrector of the next step adds it again.
  const noise = v.vector()
  let noiseAmount = 0
  const estimates: Float32Array[] = [] // oldest first, at most maxOrder
  let h = 0
  let tau = 0
  for (let i = 0; i < sigmas.length - 1; i++) {
    const sigma = sigmas[i]
    const sigmaNext = sigmas[i + 1]
    let denoised = await evaluate(denoise, predicted, sigma)
    const slot = estimates.length < maxOrder ? v.vector() : estimates.shift()!
    slot.set(denoised)
    estimates.push(slot)
    let predictorOrder = Math.min(PREDICTOR_ORDER, estimates.length)
    let correctorOrder =
      i === 0 || (sigmaNext === 0 && !pece) ? 0 : Math.min(CORRECTOR_ORDER, estimates.length)
    if (lowerOrderToEnd) {
      predictorOrder = Math.min(predictorOrder, sigmas.length - 2 - i)
      correctorOrder = Math.min(correctorOrder, sigmas.length - 1 - i)
    }

    // Corrector: redo the last step with the estimate at its end point.
    if (correctorOrder === 0) {
      ;[x, predicted] = [predicted, x]
    } else {
      const b = stochasticAdamsCoefficients(
        sigma,
        lambdas.slice(i - correctorOrder + 1, i + 1),
        lambdas[i - 1],
        lambdas[i],
        tau,
      )
      const terms = estimates.slice(estimates.length - correctorOrder)
      const withNoise = tau > 0 && sNoise > 0
      // x ← (σ/σ_prev)·e^{−τ²h}·x + Σ_j b_j·D_j (+ the predictor's noise)
      const decay = (sigma / sigmas[i - 1]) * Math.exp(-(tau ** 2) * h)
      v.combine(
        x,
        withNoise ? [decay, ...b, noiseAmount] : [decay, ...b],
        withNoise ? [x, ...terms, noise] : [x, ...terms],
      )
      if (pece) {
        denoised = await evaluate(denoise, x, sigma)
        estimates[estimates.length - 1].set(denoised)
      }
    }

    // Predictor: to σ' with noise of strength τ(σ').
    if (sigmaNext === 0) {
      predicted.set(denoised)
    } else {
      tau = tauOf(sigmaNext)
      const b = stochasticAdamsCoefficients(
        sigmaNext,
        lambdas.slice(i - predictorOrder + 1, i + 1),
        lambdas[i],
        lambdas[i + 1],
        tau,
      )
      const terms = estimates.slice(estimates.length - predictorOrder)
      h = lambdas[i + 1] - lambdas[i]
      // x̃ ← (σ'/σ)·e^{−τ²h}·x + Σ_j b_j·D_j + σ'·√(1 − e^{−2τ²h})·s_noise·n
      const decay = (sigmaNext / sigma) * Math.exp(-(tau ** 2) * h)
      if (tau > 0 && sNoise > 0) {
        noise.set(options.noise(x.length))
        noiseAmount = sigmaNext * Math.sqrt(-Math.expm1(-2 * tau ** 2 * h)) * sNoise
        v.combine(predicted, [decay, ...b, noiseAmount], [x, ...terms, noise])
      } else {
        v.combine(predicted, [decay, ...b], [x, ...terms])
      }
    }
    endStep(options, i, schedule, predicted, denoised)
  }
  return v.result(predicted)
}

export function sampleSaSolver(
  denoise: Denoiser,
  x: Float32Array,
  sigmas: Float64Array,
  options: SamplerOptions,
): Promise<Float32Array> {
  return saSolver(false, denoise, x, sigmas, options)
}

export function sampleSaSolverPece(
  denoise: Denoiser,
  x: Float32Array,
  sigmas: Float64Array,
  options: SamplerOptions,
): Promise<Float32Array> {
  return saSolver(true, denoise, x, sigmas, options)
}
