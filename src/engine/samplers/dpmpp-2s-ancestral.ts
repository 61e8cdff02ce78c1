/**
 * DPM-Solver++(2S) ancestral: a second-order single-step exponential-integrator move to σ_down, then noise
 * back up to σ'. Flow models use ComfyUI's RF variant.
 * @module
 */
import type { Denoiser } from '../types.js'
import { VectorSpace } from '../vector-ops.js'
import {
  ancestralStep,
  endStep,
  evaluate,
  halfLogSnr,
  rfAncestralStep,
  type SamplerOptions,
  sigmaFromHalfLogSnr,
} from './common.js'

/**
 * DPM-Solver++(2S) (Lu et al. 2022, "DPM-Solver++", Algorithm 1 with r = ½) in t = −log σ, k-diffusion
 * `sample_dpmpp_2s_ancestral`: x₂ = (σ_s/σ)x − expm1(−h/2)·D, x ← (σ_down/σ)x − expm1(−h)·D(x₂, σ_s).
 * The step to σ_down = 0 is Euler (= D). Noise is added whenever σ' > 0.
 */
export async function sampleDpmppTwoSAncestral(
  denoise: Denoiser,
  input: Float32Array,
  sigmas: Float64Array,
  options: SamplerOptions,
): Promise<Float32Array> {
  if (options.flow) return sampleDpmppTwoSAncestralRf(denoise, input, sigmas, options)
  const eta = options.eta ?? 1
  const v = new VectorSpace(input.length, 2)
  const x = v.copyOf(input)
  const midpoint = v.vector()
  for (let i = 0; i < sigmas.length - 1; i++) {
    const sigma = sigmas[i]
    const sigmaNext = sigmas[i + 1]
    let denoised = await evaluate(denoise, x, sigma)
    const { sigmaDown, sigmaUp } = ancestralStep(sigma, sigmaNext, eta)
    if (sigmaDown === 0) {
      // Euler to 0 lands on D; with η > 1, σ' > 0 can still follow and ComfyUI then adds the noise.
      if (sigmaNext > 0) v.combine2(x, 1, denoised, options.sNoise * sigmaUp, options.noise(x.length))
      else x.set(denoised)
    } else {
      const t = -Math.log(sigma)
      const h = -Math.log(sigmaDown) - t
      const s = t + h / 2
      const sigmaS = Math.exp(-s)
      const a = sigmaS / sigma
      const b = -Math.expm1(-h / 2)
      v.combine2(midpoint, a, x, b, denoised)
      denoised = await evaluate(denoise, midpoint, sigmaS)
      const ratio = sigmaDown / sigma
      const c = -Math.expm1(-h)
      if (sigmaNext > 0) {
        const n = options.noise(x.length)
        const amount = options.sNoise * sigmaUp
        v.combine3(x, ratio, x, c, denoised, amount, n)
      } else {
        v.combine2(x, ratio, x, c, denoised)
      }
    }
    endStep(options, i, sigmas, x, denoised)
  }
  return v.result(x)
}

/**
 * ComfyUI `sample_dpmpp_2s_ancestral_RF`: the same two stages written as interpolations toward D with the flow
 * half-log-SNR λ = log((1−σ)/σ); a first σ of exactly 1 uses the midpoint σ_s = 0.9999 (λ(1) is −∞).
 */
async function sampleDpmppTwoSAncestralRf(
  denoise: Denoiser,
  input: Float32Array,
  sigmas: Float64Array,
  options: SamplerOptions,
): Promise<Float32Array> {
  const eta = options.eta ?? 1
  const v = new VectorSpace(input.length, 2)
  const x = v.copyOf(input)
  const midpoint = v.vector()
  for (let i = 0; i < sigmas.length - 1; i++) {
    const sigma = sigmas[i]
    const sigmaNext = sigmas[i + 1]
    let denoised = await evaluate(denoise, x, sigma)
    const { sigmaDown, alphaRatio, renoise } = rfAncestralStep(sigma, sigmaNext, eta)
    if (sigmaNext === 0) {
      x.set(denoised)
    } else {
      const sigmaS =
        sigma === 1
          ? 0.9999
          : sigmaFromHalfLogSnr((halfLogSnr(sigma, true) + halfLogSnr(sigmaDown, true)) / 2, true)
      const midRatio = sigmaS / sigma
      v.combine2(midpoint, midRatio, x, 1 - midRatio, denoised)
      denoised = await evaluate(denoise, midpoint, sigmaS)
      const ratio = sigmaDown / sigma
      if (eta > 0) {
        // x ← (α'/α_down)·((σ_down/σ)·x + (1 − σ_down/σ)·D₂) + s_noise·r·n
        const n = options.noise(x.length)
        const amount = options.sNoise * renoise
        v.combine3(x, alphaRatio * ratio, x, alphaRatio * (1 - ratio), denoised, amount, n)
      } else {
        v.combine2(x, ratio, x, 1 - ratio, denoised)
      }
    }
    endStep(options, i, sigmas, x, denoised)
  }
  return v.result(x)
}
