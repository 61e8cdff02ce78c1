/**
 * DEIS (`deis`, tAB mode), ComfyUI's port of zju-pi/diff-sampler's DEIS implementation
 * (`comfy/k_diffusion/deis.py`).
 * @module
 */
import type { Denoiser } from '../types.js'
import { VectorSpace } from '../vector-ops.js'
import { endStep, evaluate, type SamplerOptions } from './common.js'

const MAX_ORDER = 3
/** Points of ComfyUI's Riemann sum for the coefficient integrals. */
const POINTS = 10_000
/** The EDM VP-SDE that ComfyUI's DEIS maps every schedule onto (fixed, whatever the model). */
const EPSILON_S = 1e-3
const EDM_SIGMA_MIN = 0.002
const EDM_SIGMA_MAX = 80

const f = Math.fround

interface VpTime {
  readonly t: number[]
  readonly beta0: number
  readonly beta1: number
}

/**
 * σ → VP time t of the linear-β VP-SDE whose σ range is EDM's [0.002, 80] (ComfyUI `edm2t`). ComfyUI derives
 * β from float32 tensors; the float32 rounding is kept.
 */
function edmToVpTime(sigmas: ArrayLike<number>): VpTime {
  const logMin = f(Math.log(f(f(f(EDM_SIGMA_MIN) * f(EDM_SIGMA_MIN)) + 1)))
  const logMax = f(Math.log(f(f(f(EDM_SIGMA_MAX) * f(EDM_SIGMA_MAX)) + 1)))
  const betaD = f(f(2 * f(f(logMin / EPSILON_S) - logMax)) / (EPSILON_S - 1))
  const betaMin = f(logMax - f(0.5 * betaD))
  const t = Array.from(
    sigmas,
    (sigma) => (Math.sqrt(betaMin ** 2 + 2 * betaD * Math.log(sigma ** 2 + 1)) - betaMin) / betaD,
  )
  return { t, beta0: betaMin, beta1: f(betaD + betaMin) }
}

/** Points between exact evaluations of α(τ) in {@link deisCoefficients}; in between, α is carried by ratios. */
const ANCHOR = 64

/**
 * DEIS tAB coefficients (Zhang & Chen 2023, "Fast Sampling of Diffusion Models with Exponential Integrator"):
 * for each step with order ≥ 2, c_j = ∫ ℓ_j(τ) dσ(τ) over [t_i, t_{i+1}], ℓ_j the Lagrange basis through the
 * last `order` times and dσ/dτ = −½ (d log α/dτ)/√(α(1 − α)); ComfyUI's sum over 10000 points is reproduced.
 */
export function deisCoefficients(sigmas: ArrayLike<number>, maxOrder = MAX_ORDER): number[][] {
  const { t, beta0, beta1 } = edmToVpTime(sigmas)
  // log α(τ) = q(τ) = a₂τ² + a₁τ
  const a2 = -0.5 * (beta1 - beta0)
  const a1 = -beta0
  const coefficients: number[][] = []
  for (let i = 0; i < t.length - 1; i++) {
    const order = Math.min(i + 1, maxOrder)
    if (order === 1) {
      coefficients.push([])
      continue
    }
    const [tCur, tNext] = [t[i], t[i + 1]]
    const dtau = (tNext - tCur) / POINTS
    const previous = Array.from({ length: order }, (_, k) => t[i - k])
    // ℓ_j(τ) = Π_{k≠j}(τ − t_k) / Π_{k≠j}(t_j − t_k): the constant denominators leave the sum.
    const denominators = previous.map((tj, j) =>
      previous.reduce((product, tk, k) => (k === j ? product : product * (tj - tk)), 1),
    )
    const [t0, t1, t2] = previous
    const factors = new Float64Array(order)
    const sums = new Float64Array(order)
    // exp(q) costs more than the rest of a point: between anchors α advances by the ratio
    // α(τ + δ)/α(τ) = e^{δ(a₂(2τ + δ) + a₁)}, which itself advances by e^{2a₂δ²} per point.
    const spacing = (tNext - tCur) / (POINTS - 1)
    const ratioStep = Math.exp(2 * a2 * spacing * spacing)
    let alpha = 0
    let ratio = 0
    for (let m = 0; m < POINTS; m++) {
      const tau = m < POINTS / 2 ? tCur + m * spacing : tNext - (POINTS - 1 - m) * spacing
      if (m % ANCHOR === 0) {
        alpha = Math.exp(a2 * tau * tau + a1 * tau)
        ratio = Math.exp(spacing * (a2 * (2 * tau + spacing) + a1))
      } else {
        alpha *= ratio
        ratio *= ratioStep
      }
      const integrand = (-0.5 * (2 * a2 * tau + a1)) / Math.sqrt(alpha * (1 - alpha))
      if (order === 2) {
        sums[0] += integrand * (tau - t1)
        sums[1] += integrand * (tau - t0)
      } else if (order === 3) {
        const [f0, f1, f2] = [tau - t0, tau - t1, tau - t2]
        sums[0] += integrand * f1 * f2
        sums[1] += integrand * f0 * f2
        sums[2] += integrand * f0 * f1
      } else {
        for (let k = 0; k < order; k++) factors[k] = tau - previous[k]
        for (let j = 0; j < order; j++) {
          let poly = integrand
          for (let k = 0; k < order; k++) if (k !== j) poly *= factors[k]
          sums[j] += poly
        }
      }
    }
    coefficients.push(Array.from(sums, (sum, j) => (sum / denominators[j]) * dtau))
  }
  return coefficients
}

/**
 * DEIS multistep sampling of order up to 3: x ← x + Σ_j c_j·d_{i−j} with d = (x − D)/σ; the first step and the
 * step to σ' = 0 are Euler (the latter lands on D).
 */
export async function sampleDeis(
  denoise: Denoiser,
  input: Float32Array,
  sigmas: Float64Array,
  options: SamplerOptions,
): Promise<Float32Array> {
  const coefficients = deisCoefficients(sigmas)
  const v = new VectorSpace(input.length, 1 + MAX_ORDER)
  const x = v.copyOf(input)
  const history: Float32Array[] = [] // newest first, at most MAX_ORDER
  for (let i = 0; i < sigmas.length - 1; i++) {
    const sigma = sigmas[i]
    const sigmaNext = sigmas[i + 1]
    const denoised = await evaluate(denoise, x, sigma)
    const d = history.length < MAX_ORDER ? v.vector() : history.pop()!
    history.unshift(d)
    // d = (x − D)/σ, x ← x + Σ_j c_j·d_{i−j}; first order is Euler, c₀ = σ' − σ
    const c = sigmaNext <= 0 || i === 0 ? [sigmaNext - sigma] : coefficients[i]
    v.multistep(d, x, denoised, 1 / sigma, c, history.slice(1, c.length))
    endStep(options, i, sigmas, x, denoised)
  }
  return v.result(x)
}
