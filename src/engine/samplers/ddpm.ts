/**
 * DDPM ancestral sampling written in the VE frame, ComfyUI `sample_ddpm`.
 * @module
 */
import type { Denoiser } from '../types.js'
import { VectorSpace } from '../vector-ops.js'
import { endStep, evaluate, type SamplerOptions } from './common.js'

/**
 * The DDPM posterior step (Ho et al. 2020, Algorithm 2) on the VP view of the state: with ᾱ = 1/(1+σ²) and
 * α = ᾱ/ᾱ', μ = (x_vp − (1−α)ε/√(1−ᾱ))/√α, plus √((1−α)(1−ᾱ')/(1−ᾱ))·n while σ' > 0; the result is scaled back
 * by √(1+σ'²). ComfyUI applies these VE formulas to every model type.
 */
export async function sampleDdpm(
  denoise: Denoiser,
  input: Float32Array,
  sigmas: Float64Array,
  options: SamplerOptions,
): Promise<Float32Array> {
  const v = new VectorSpace(input.length, 1)
  const x = v.copyOf(input)
  for (let i = 0; i < sigmas.length - 1; i++) {
    const sigma = sigmas[i]
    const sigmaNext = sigmas[i + 1]
    const denoised = await evaluate(denoise, x, sigma)
    const alphaCumprod = 1 / (sigma * sigma + 1)
    const alphaCumprodNext = 1 / (sigmaNext * sigmaNext + 1)
    const alpha = alphaCumprod / alphaCumprodNext
    const toVp = 1 / Math.sqrt(1 + sigma ** 2)
    const meanScale = Math.sqrt(1 / alpha)
    const epsScale = (1 - alpha) / Math.sqrt(1 - alphaCumprod)
    const back = sigmaNext !== 0 ? Math.sqrt(1 + sigmaNext ** 2) : 1
    const n = sigmaNext > 0 ? options.noise(x.length) : null
    const std = n ? Math.sqrt(((1 - alpha) * (1 - alphaCumprodNext)) / (1 - alphaCumprod)) : 0
    // x ← back·(meanScale·(toVp·x − epsScale·ε) + std·n) with ε = (x − D)/σ
    const cx = back * meanScale * (toVp - epsScale / sigma)
    const cD = (back * meanScale * epsScale) / sigma
    if (n) v.combine3(x, cx, x, cD, denoised, back * std, n)
    else v.combine2(x, cx, x, cD, denoised)
    endStep(options, i, sigmas, x, denoised)
  }
  return v.result(x)
}
