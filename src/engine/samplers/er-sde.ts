/**
 * Extended reverse-time SDE solver (`er_sde`), ComfyUI `sample_er_sde`.
 * @module
 */
import type { Denoiser } from '../types.js'
import { VectorSpace } from '../vector-ops.js'
import { endStep, evaluate, halfLogSnr, offsetFirstSigmaForSnr, type SamplerOptions } from './common.js'

const MAX_STAGE = 3
const INTEGRATION_POINTS = 200

/** ComfyUI's default noise scaler f(λ) = λ(e^{λ^0.3} + 10). */
const noiseScaler = (v: number) => v * (Math.exp(v ** 0.3) + 10)

/**
 * VP ER-SDE-Solver-3 (Cui et al. 2023, "Elucidating the solution space of extended reverse-time SDE for
 * diffusion models", arXiv 2309.06169) in ER-λ = σ/α of the model (flow models offset a first σ ≥ 1): a
 * first-order stage, then second- and third-order corrections from divided differences of D whose integrals
 * are approximated on 200 points, as in ComfyUI; noise √(λ'² − λ²r²)·α'·s_noise each step with σ' > 0.
 */
export async function sampleErSde(
  denoise: Denoiser,
  input: Float32Array,
  schedule: Float64Array,
  options: SamplerOptions,
): Promise<Float32Array> {
  const sNoise = options.sNoise
  const sigmas = offsetFirstSigmaForSnr(schedule, options)
  const erLambdas = Array.from(sigmas, (sigma) => Math.exp(-halfLogSnr(sigma, options.flow)))
  const v = new VectorSpace(input.length, 5)
  const x = v.copyOf(input)
  // D is copied in once and kept as the next step's D_prev.
  let current = v.vector()
  let previous = v.vector()
  let slope = v.vector() // first divided difference of D
  let previousSlope = v.vector()
  for (let i = 0; i < sigmas.length - 1; i++) {
    const sigmaNext = sigmas[i + 1]
    const denoised = await evaluate(denoise, x, sigmas[i])
    current.set(denoised)
    const stage = Math.min(MAX_STAGE, i + 1)
    if (sigmaNext === 0) {
      x.set(denoised)
    } else {
      const lambdaS = erLambdas[i]
      const lambdaT = erLambdas[i + 1]
      const alphaS = sigmas[i] / lambdaS
      const alphaT = sigmaNext / lambdaT
      const r = noiseScaler(lambdaT) / noiseScaler(lambdaS)
      const a = (alphaT / alphaS) * r
      const b = alphaT * (1 - r)
      // Stage 2 and 3 weights (zero while the history is too short).
      let c2 = 0
      let slopeScale = 0
      let c3 = 0
      let curveScale = 0
      if (stage >= 2) {
        const dt = lambdaT - lambdaS
        const { s, sU } = integrals(lambdaS, lambdaT)
        c2 = alphaT * (dt + s * noiseScaler(lambdaT))
        slopeScale = 1 / (lambdaS - erLambdas[i - 1])
        if (stage >= 3) {
          c3 = alphaT * (dt ** 2 / 2 + sU * noiseScaler(lambdaT))
          curveScale = 1 / ((lambdaS - erLambdas[i - 2]) / 2)
        }
      }
      const radicand = lambdaT ** 2 - lambdaS ** 2 * r ** 2
      const amount = alphaT * sNoise * (radicand >= 0 ? Math.sqrt(radicand) : 0)
      // x ← a·x + b·D + c₂·Δ + c₃·(Δ − Δ_prev)·κ + amount·n with Δ = (D − D_prev)·s
      const weights = [a, b]
      const terms = [x, current]
      if (stage >= 2) {
        v.combine2(slope, slopeScale, current, -slopeScale, previous)
        weights.push(c2 + c3 * curveScale)
        terms.push(slope)
        if (stage >= 3) {
          weights.push(-c3 * curveScale)
          terms.push(previousSlope)
        }
      }
      if (sNoise > 0) {
        weights.push(amount)
        terms.push(options.noise(x.length))
      }
      v.combine(x, weights, terms)
      if (stage >= 2) [slope, previousSlope] = [previousSlope, slope]
    }
    ;[current, previous] = [previous, current]
    endStep(options, i, schedule, x, denoised)
  }
  return v.result(x)
}

/** Σ 1/f(λ_j)·Δ and Σ (λ_j − λ_s)/f(λ_j)·Δ over λ_j = λ_t + jΔ, Δ = (λ_s − λ_t)/200 (ComfyUI's quadrature). */
function integrals(lambdaS: number, lambdaT: number): { s: number; sU: number } {
  const step = -(lambdaT - lambdaS) / INTEGRATION_POINTS
  let s = 0
  let sU = 0
  for (let j = 0; j < INTEGRATION_POINTS; j++) {
    const position = lambdaT + j * step
    const scaled = noiseScaler(position)
    s += 1 / scaled
    sU += (position - lambdaS) / scaled
  }
  return { s: s * step, sU: sU * step }
}
