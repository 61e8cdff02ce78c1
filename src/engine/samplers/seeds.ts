/**
 * SEEDS-2/3 (stochastic explicit exponential derivative-free solvers) and the exponential Heun method built from
 * SEEDS-2, ComfyUI `sample_seeds_2`, `sample_seeds_3`, `sample_exp_heun_2_x0(_sde)`.
 * @module
 */
import type { Denoiser } from '../types.js'
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
  const x = input.slice()
  const stage = new Float32Array(x.length)
  const sdeNoise = new Float32Array(x.length)
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

    const a1 = (sigmaS1 / sigma) * Math.exp(-r * h * eta)
    const b1 = -alphaS1 * hPhi1(-r * hEta)
    if (inject) {
      const n = options.noise(x.length)
      const std = Math.sqrt(-Math.expm1(-2 * r * h * eta))
      for (let k = 0; k < x.length; k++) {
        sdeNoise[k] = std * n[k]
        stage[k] = a1 * x[k] + b1 * denoised[k] + sdeNoise[k] * sigmaS1 * sNoise
      }
    } else {
      for (let k = 0; k < x.length; k++) stage[k] = a1 * x[k] + b1 * denoised[k]
    }
    const first = solver === 'phi_1' ? 1 - 1 / (2 * r) : 0
    // Keep what stage 2 needs of D before the next call may reuse the denoiser's buffer.
    const bPhi2 = hPhi2(-hEta) / r
    const b = -alphaT * (solver === 'phi_1' ? hPhi1(-hEta) : hPhi1(-hEta) - bPhi2)
    const c = -alphaT * (solver === 'phi_1' ? hPhi1(-hEta) : bPhi2)
    const a = (sigmaNext / sigma) * Math.exp(-h * eta)
    // x ← a·x + b·(first·D) + c·(…) is folded in two passes: the D part now, the D₂ part after the call.
    const wD = solver === 'phi_1' ? b * first : b
    for (let k = 0; k < x.length; k++) x[k] = a * x[k] + wD * denoised[k]
    denoised = await evaluate(denoise, stage, sigmaS1)
    const wD2 = solver === 'phi_1' ? c / (2 * r) : c
    if (inject) {
      const segment = (r - 1) * h * eta
      const decay = Math.exp(segment)
      const std = Math.sqrt(-Math.expm1(2 * segment))
      const n = options.noise(x.length)
      const amount = sigmaNext * sNoise
      for (let k = 0; k < x.length; k++) {
        x[k] += wD2 * denoised[k] + (sdeNoise[k] * decay + std * n[k]) * amount
      }
    } else {
      for (let k = 0; k < x.length; k++) x[k] += wD2 * denoised[k]
    }
    endStep(options, i, schedule, x, denoised)
  }
  return x
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
  const x = input.slice()
  const first = new Float32Array(x.length)
  const stage = new Float32Array(x.length)
  const sdeNoise = new Float32Array(x.length)
  const addStageNoise = (target: Float32Array, segment: number, fresh: boolean, scale: number) => {
    const n = options.noise(x.length)
    const decay = fresh ? 0 : Math.exp(segment)
    const std = Math.sqrt(-Math.expm1(fresh ? segment : 2 * segment))
    for (let k = 0; k < x.length; k++) {
      sdeNoise[k] = sdeNoise[k] * decay + std * n[k]
      target[k] += sdeNoise[k] * scale
    }
  }
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

    // Stage 1 → σ_s1
    const a1 = (sigmaS1 / sigma) * Math.exp(-r1 * h * eta)
    const b1 = -alphaS1 * hPhi1(-r1 * hEta)
    for (let k = 0; k < x.length; k++) stage[k] = a1 * x[k] + b1 * first[k]
    if (inject) addStageNoise(stage, -2 * r1 * h * eta, true, sigmaS1 * sNoise)
    const denoised2 = await evaluate(denoise, stage, sigmaS1)

    // Stage 2 → σ_s2
    const a32 = (r2 / r1) * hPhi2(-r2 * hEta)
    const a31 = hPhi1(-r2 * hEta) - a32
    const a2 = (sigmaS2 / sigma) * Math.exp(-r2 * h * eta)
    for (let k = 0; k < x.length; k++) stage[k] = a2 * x[k] - alphaS2 * (a31 * first[k] + a32 * denoised2[k])
    if (inject) addStageNoise(stage, (r1 - r2) * h * eta, false, sigmaS2 * sNoise)
    denoised = await evaluate(denoise, stage, sigmaS2)

    // Stage 3 → σ'
    const b3 = hPhi2(-hEta) / r2
    const b1Full = hPhi1(-hEta) - b3
    const a = (sigmaNext / sigma) * Math.exp(-h * eta)
    for (let k = 0; k < x.length; k++) x[k] = a * x[k] - alphaT * (b1Full * first[k] + b3 * denoised[k])
    if (inject) addStageNoise(x, (r2 - 1) * h * eta, false, sigmaNext * sNoise)
    endStep(options, i, schedule, x, denoised)
  }
  return x
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
