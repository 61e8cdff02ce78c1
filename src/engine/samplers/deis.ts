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

/** torch.linspace's i-th value: filled from both ends, as torch does. */
function linspaceAt(start: number, end: number, steps: number, i: number): number {
  const step = (end - start) / (steps - 1)
  return i < steps / 2 ? start + i * step : end - (steps - 1 - i) * step
}

/**
 * DEIS tAB coefficients (Zhang & Chen 2023, "Fast Sampling of Diffusion Models with Exponential Integrator"):
 * for each step with order ≥ 2, c_j = ∫ ℓ_j(τ) dσ(τ) over [t_i, t_{i+1}], ℓ_j the Lagrange basis through the
 * last `order` times and dσ/dτ = −½ (d log α/dτ)/√(α(1 − α)); ComfyUI's sum over 10000 points is reproduced.
 */
export function deisCoefficients(sigmas: ArrayLike<number>, maxOrder = MAX_ORDER): number[][] {
  const { t, beta0, beta1 } = edmToVpTime(sigmas)
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
    const sums = new Array<number>(order).fill(0)
    for (let m = 0; m < POINTS; m++) {
      const tau = linspaceAt(tCur, tNext, POINTS, m)
      const alpha = Math.exp(-0.5 * tau ** 2 * (beta1 - beta0) - tau * beta0)
      const dLogAlpha = -tau * (beta1 - beta0) - beta0
      const integrand = (-0.5 * dLogAlpha) / Math.sqrt(alpha * (1 - alpha))
      for (let j = 0; j < order; j++) {
        let poly = 1
        for (let k = 0; k < order; k++) {
          if (k !== j) poly *= (tau - previous[k]) / (previous[j] - previous[k])
        }
        sums[j] += integrand * poly
      }
    }
    coefficients.push(sums.map((sum) => sum * dtau))
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
    // d = (x − D)/σ
    v.combine2(d, 1 / sigma, x, -1 / sigma, denoised)
    // x ← x + Σ_j c_j·d_{i−j}; first order is Euler, c₀ = σ' − σ
    const c = sigmaNext <= 0 || i === 0 ? [sigmaNext - sigma] : coefficients[i]
    v.combine(x, [1, ...c], [x, ...history.slice(0, c.length)])
    endStep(options, i, sigmas, x, denoised)
  }
  return v.result(x)
}
