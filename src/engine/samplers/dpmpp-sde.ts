/**
 * DPM-Solver++ SDE (stochastic, two stages per step), ComfyUI `sample_dpmpp_sde`.
 * @module
 */
import type { Denoiser } from '../types.js'
import { VectorSpace } from '../vector-ops.js'
import {
  ancestralStep,
  endStep,
  evaluate,
  halfLogSnr,
  offsetFirstSigmaForSnr,
  type SamplerOptions,
  sigmaFromHalfLogSnr,
  signalScale,
} from './common.js'

/** Stage position in λ: r = ½ puts the intermediate evaluation at the λ-midpoint. */
const R = 1 / 2

/**
 * DPM-Solver++ (Lu et al. 2022) with ancestral noise at both stages, in the half-log-SNR λ of the model
 * (−log σ for VE, log((1−σ)/σ) for flow, where a first σ ≥ 1 is offset). Per step: an exponential-integrator
 * move to λ + r·h with noise, a model call there, then the full step with D̄ = (1 − 1/2r)D + (1/2r)D₂ and
 * noise. The step to σ' = 0 returns D. Noise is drawn only when η > 0 and s_noise > 0.
 */
export async function sampleDpmppSde(
  denoise: Denoiser,
  input: Float32Array,
  schedule: Float64Array,
  options: SamplerOptions,
): Promise<Float32Array> {
  const eta = options.eta ?? 1
  const { flow, sNoise } = options
  const sigmas = offsetFirstSigmaForSnr(schedule, options)
  const withNoise = eta > 0 && sNoise > 0
  const v = new VectorSpace(input.length, 2)
  const x = v.copyOf(input)
  const stage = v.vector()
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
    const lambdaS1 = lambdaS + R * h
    const sigmaS1 = sigmaFromHalfLogSnr(lambdaS1, flow)
    const alphaS = signalScale(sigma, flow)
    const alphaS1 = signalScale(sigmaS1, flow)
    const alphaT = signalScale(sigmaNext, flow)

    // Stage 1: to λ_s1 (noise pair σ → σ_s1).
    const split1 = ancestralStep(Math.exp(-lambdaS), Math.exp(-lambdaS1), eta)
    const h1 = -Math.log(split1.sigmaDown) - lambdaS
    const a1 = (alphaS1 / alphaS) * Math.exp(-h1)
    const b1 = -alphaS1 * Math.expm1(-h1)
    if (withNoise) {
      const n = options.noise(x.length)
      const amount = alphaS1 * sNoise * split1.sigmaUp
      v.combine3(stage, a1, x, b1, denoised, amount, n)
    } else {
      v.combine2(stage, a1, x, b1, denoised)
    }
    denoised = await evaluate(denoise, stage, sigmaS1)

    // Stage 2: the full step with the blended estimate (noise pair σ → σ').
    const split2 = ancestralStep(Math.exp(-lambdaS), Math.exp(-lambdaT), eta)
    const h2 = -Math.log(split2.sigmaDown) - lambdaS
    // With r = ½ the blend (1 − 1/2r)·D + (1/2r)·D₂ is exactly D₂.
    const a2 = (alphaT / alphaS) * Math.exp(-h2)
    const b2 = -alphaT * Math.expm1(-h2)
    if (withNoise) {
      const n = options.noise(x.length)
      const amount = alphaT * sNoise * split2.sigmaUp
      v.combine3(x, a2, x, b2, denoised, amount, n)
    } else {
      v.combine2(x, a2, x, b2, denoised)
    }
    endStep(options, i, schedule, x, denoised)
  }
  return v.result(x)
}
