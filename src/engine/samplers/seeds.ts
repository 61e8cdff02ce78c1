/**
 * SEEDS-2/3 (stochastic explicit exponential derivative-free solvers) and the exponential Heun method built from
 * SEEDS-2, ComfyUI `sample_seeds_2`, `sample_seeds_3`, `sample_exp_heun_2_x0(_sde)`.
 * @module
 */
import type { Denoiser } from '../types.js'
import { VectorSpace } from '../vector-ops.js'
import {
  endStep,
  evaluate,
  halfLogSnr,
  offsetFirstSigmaForSnr,
  type SamplerOptions,
  sigmaFromHalfLogSnr,
} from './common.js'

/** h·φ₁(h) = e^h − 1 and h·φ₂(h) = (e^h − 1 − h)/h of exponential integrators. */
const hPhi1 = (h: number) => Math.expm1(h)
const hPhi2 = (h: number) => (Math.expm1(h) - h) / h

export interface SeedsTwoOptions {
  /** Position of the intermediate evaluation in λ (½ for SEEDS-2, 1 for exponential Heun). */
  readonly r: number
  /** 'phi_1': blend the estimates (SEEDS-2 default); 'phi_2': second-order φ₂ weights (exponential Heun). */
  readonly solver: 'phi_1' | 'phi_2'
  /** Forces η (0 for the deterministic exponential Heun); otherwise options.eta, default 1. */
  readonly eta?: number
}

/**
 * SEEDS-2 (Gonzalez et al. 2023, "SEEDS: Exponential SDE Solvers for Fast High-Quality Sampling from Diffusion
 * Models", VP data prediction, stage 2) in the model's half-log-SNR λ (flow models offset a first σ ≥ 1). With
 * η > 0 and s_noise > 0 each step draws noise twice, (σ, σ_s1) then (σ_s1, σ'), and carries the first draw
 * into the second stage. The step to σ' = 0 returns D.
 */
export async function seedsTwo(
  settings: SeedsTwoOptions,
  denoise: Denoiser,
  input: Float32Array,
  schedule: Float64Array,
  options: SamplerOptions,
): Promise<Float32Array> {
  const { r, solver } = settings
  const eta = settings.eta ?? options.eta ?? 1
  const sNoise = settings.eta === 0 ? 0 : options.sNoise
  const { flow } = options
  const inject = eta > 0 && sNoise > 0
  const sigmas = offsetFirstSigmaForSnr(schedule, options)
  const v = new VectorSpace(input.length, 4)
  const x = v.copyOf(input)
  const stage = v.vector()
  /** D at the step start, kept past the stage's model call. */
  const kept = v.vector()
  /** The stage's noise draw, reused by the full step. */
  const firstNoise = v.vector()
  for (let i = 0; i < sigmas.length - 1; i++) {
    const sigma = sigmas[i]
    const sigmaNext = sigmas[i + 1]
    let denoised = await evaluate(denoise, x, sigma)
    if (sigmaNext === 0) {
      x.set(denoised)
      endStep(options, i, schedule, x, denoised)
      continue
    }
    const lambdaS = halfLogSnr(sigma, flow)
    const lambdaT = halfLogSnr(sigmaNext, flow)
    const h = lambdaT - lambdaS
    const hEta = h * (eta + 1)
    const lambdaS1 = lambdaS + r * (lambdaT - lambdaS)
    const sigmaS1 = sigmaFromHalfLogSnr(lambdaS1, flow)
    const alphaS1 = sigmaS1 * Math.exp(lambdaS1)
    const alphaT = sigmaNext * Math.exp(lambdaT)

    // Keep D past the stage's model call, which may reuse the denoiser's buffer.
    kept.set(denoised)
    const a1 = (sigmaS1 / sigma) * Math.exp(-r * h * eta)
    const b1 = -alphaS1 * hPhi1(-r * hEta)
    // Stage noise z₁ = std₁·n₁ (σ → σ_s1)
    const std1 = inject ? Math.sqrt(-Math.expm1(-2 * r * h * eta)) : 0
    // x_s1 = a₁·x + b₁·D + σ_s1·s_noise·z₁
    if (inject) {
      firstNoise.set(options.noise(x.length))
      v.combine3(stage, a1, x, b1, kept, sigmaS1 * sNoise * std1, firstNoise)
    } else {
      v.combine2(stage, a1, x, b1, kept)
    }
    denoised = await evaluate(denoise, stage, sigmaS1)

    const first = solver === 'phi_1' ? 1 - 1 / (2 * r) : 0
    const bPhi2 = hPhi2(-hEta) / r
    const b = -alphaT * (solver === 'phi_1' ? hPhi1(-hEta) : hPhi1(-hEta) - bPhi2)
    const c = -alphaT * (solver === 'phi_1' ? hPhi1(-hEta) : bPhi2)
    const a = (sigmaNext / sigma) * Math.exp(-h * eta)
    const wD = solver === 'phi_1' ? b * first : b
    const wD2 = solver === 'phi_1' ? c / (2 * r) : c
    if (inject) {
      // x ← a·x + w·D + w₂·D₂ + σ'·s_noise·(z₁·e^{(r−1)hη} + std₂·n₂)
      const segment = (r - 1) * h * eta
      const decay = Math.exp(segment)
      const std2 = Math.sqrt(-Math.expm1(2 * segment))
      const amount = sigmaNext * sNoise
      const n = options.noise(x.length)
      v.combine(x, [a, wD, wD2, amount * decay * std1, amount * std2], [x, kept, denoised, firstNoise, n])
    } else {
      // x ← a·x + w·D + w₂·D₂
      v.combine3(x, a, x, wD, kept, wD2, denoised)
    }
    endStep(options, i, schedule, x, denoised)
  }
  return v.result(x)
}

/**
 * SEEDS-3 (same paper, stage 3, r₁ = ⅓, r₂ = ⅔): three model calls per step and, with η > 0, three noise draws
 * (σ, σ_s1), (σ_s1, σ_s2), (σ_s2, σ') whose sum is carried across the stages.
 */
export async function sampleSeedsThree(
  denoise: Denoiser,
  input: Float32Array,
  schedule: Float64Array,
  options: SamplerOptions,
): Promise<Float32Array> {
  const r1 = 1 / 3
  const r2 = 2 / 3
  const eta = options.eta ?? 1
  const { flow, sNoise } = options
  const inject = eta > 0 && sNoise > 0
  const sigmas = offsetFirstSigmaForSnr(schedule, options)
  const v = new VectorSpace(input.length, 5)
  const x = v.copyOf(input)
  const first = v.vector()
  const stage = v.vector()
  const noise1 = v.vector()
  const noise2 = v.vector()
  for (let i = 0; i < sigmas.length - 1; i++) {
    const sigma = sigmas[i]
    const sigmaNext = sigmas[i + 1]
    let denoised = await evaluate(denoise, x, sigma)
    if (sigmaNext === 0) {
      x.set(denoised)
      endStep(options, i, schedule, x, denoised)
      continue
    }
    const lambdaS = halfLogSnr(sigma, flow)
    const lambdaT = halfLogSnr(sigmaNext, flow)
    const h = lambdaT - lambdaS
    const hEta = h * (eta + 1)
    const lambdaS1 = lambdaS + r1 * (lambdaT - lambdaS)
    const lambdaS2 = lambdaS + r2 * (lambdaT - lambdaS)
    const sigmaS1 = sigmaFromHalfLogSnr(lambdaS1, flow)
    const sigmaS2 = sigmaFromHalfLogSnr(lambdaS2, flow)
    const alphaS1 = sigmaS1 * Math.exp(lambdaS1)
    const alphaS2 = sigmaS2 * Math.exp(lambdaS2)
    const alphaT = sigmaNext * Math.exp(lambdaT)
    first.set(denoised)

    // The carried noise z: z₁ = s₁·n₁, z₂ = e₂·z₁ + s₂·n₂, z₃ = e₃·z₂ + s₃·n₃, with e = e^{segment} and
    // s = √(1 − e²) per stage (the first stage is fresh noise).
    const segment1 = -2 * r1 * h * eta
    const segment2 = (r1 - r2) * h * eta
    const segment3 = (r2 - 1) * h * eta
    const s1 = Math.sqrt(-Math.expm1(segment1))
    const [e2, s2] = [Math.exp(segment2), Math.sqrt(-Math.expm1(2 * segment2))]
    const [e3, s3] = [Math.exp(segment3), Math.sqrt(-Math.expm1(2 * segment3))]

    // Stage 1 → σ_s1: x_s1 = a₁·x + b₁·D + σ_s1·s_noise·z₁
    const a1 = (sigmaS1 / sigma) * Math.exp(-r1 * h * eta)
    const b1 = -alphaS1 * hPhi1(-r1 * hEta)
    if (inject) {
      noise1.set(options.noise(x.length))
      v.combine3(stage, a1, x, b1, first, sigmaS1 * sNoise * s1, noise1)
    } else {
      v.combine2(stage, a1, x, b1, first)
    }
    const denoised2 = await evaluate(denoise, stage, sigmaS1)

    // Stage 2 → σ_s2: x_s2 = a₂·x − α_s2·(a₃₁·D + a₃₂·D₂) + σ_s2·s_noise·z₂
    const a32 = (r2 / r1) * hPhi2(-r2 * hEta)
    const a31 = hPhi1(-r2 * hEta) - a32
    const a2 = (sigmaS2 / sigma) * Math.exp(-r2 * h * eta)
    if (inject) {
      noise2.set(options.noise(x.length))
      const amount = sigmaS2 * sNoise
      v.combine(
        stage,
        [a2, -alphaS2 * a31, -alphaS2 * a32, amount * e2 * s1, amount * s2],
        [x, first, denoised2, noise1, noise2],
      )
    } else {
      v.combine3(stage, a2, x, -alphaS2 * a31, first, -alphaS2 * a32, denoised2)
    }
    denoised = await evaluate(denoise, stage, sigmaS2)

    // Stage 3 → σ': x ← a·x − α'·(b₁·D + b₃·D₃) + σ'·s_noise·z₃
    const b3 = hPhi2(-hEta) / r2
    const b1Full = hPhi1(-hEta) - b3
    const a = (sigmaNext / sigma) * Math.exp(-h * eta)
    if (inject) {
      const amount = sigmaNext * sNoise
      const n = options.noise(x.length)
      v.combine(
        x,
        [a, -alphaT * b1Full, -alphaT * b3, amount * e3 * e2 * s1, amount * e3 * s2, amount * s3],
        [x, first, denoised, noise1, noise2, n],
      )
    } else {
      v.combine3(x, a, x, -alphaT * b1Full, first, -alphaT * b3, denoised)
    }
    endStep(options, i, schedule, x, denoised)
  }
  return v.result(x)
}

export function sampleSeedsTwo(
  denoise: Denoiser,
  x: Float32Array,
  sigmas: Float64Array,
  options: SamplerOptions,
): Promise<Float32Array> {
  return seedsTwo({ r: 0.5, solver: 'phi_1' }, denoise, x, sigmas, options)
}

/** Deterministic exponential Heun in data prediction and λ time: SEEDS-2 with r = 1, φ₂ weights, η = 0. */
export function sampleExpHeunTwoX0(
  denoise: Denoiser,
  x: Float32Array,
  sigmas: Float64Array,
  options: SamplerOptions,
): Promise<Float32Array> {
  return seedsTwo({ r: 1, solver: 'phi_2', eta: 0 }, denoise, x, sigmas, options)
}

/** Stochastic exponential Heun: SEEDS-2 with r = 1 and φ₂ weights, η from the options (default 1). */
export function sampleExpHeunTwoX0Sde(
  denoise: Denoiser,
  x: Float32Array,
  sigmas: Float64Array,
  options: SamplerOptions,
): Promise<Float32Array> {
  return seedsTwo({ r: 1, solver: 'phi_2' }, denoise, x, sigmas, options)
}
