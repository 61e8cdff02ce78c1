/**
 * Latent Consistency Model sampling, ComfyUI `sample_lcm`.
 * @module
 */
import type { Denoiser } from '../types.js'
import { VectorSpace } from '../vector-ops.js'
import { endStep, evaluate, type SamplerOptions } from './common.js'

/**
 * Multistep consistency sampling (Luo et al. 2023, "Latent Consistency Models", Algorithm 1; Song et al. 2023):
 * jump to the estimate D, then re-noise it to σ' with the model's noise scaling — x = D + σ'n for SD-style
 * models, x = σ'n + (1 − σ')D for flow models. The last step returns D.
 */
export async function sampleLcm(
  denoise: Denoiser,
  input: Float32Array,
  sigmas: Float64Array,
  options: SamplerOptions,
): Promise<Float32Array> {
  const v = new VectorSpace(input.length, 1)
  const x = v.copyOf(input)
  for (let i = 0; i < sigmas.length - 1; i++) {
    const sigmaNext = sigmas[i + 1]
    const denoised = await evaluate(denoise, x, sigmas[i])
    if (sigmaNext > 0) {
      const n = options.noise(x.length)
      const amount = sigmaNext * options.sNoise
      const keep = options.flow ? 1 - sigmaNext : 1
      v.combine2(x, amount, n, keep, denoised)
    } else {
      x.set(denoised)
    }
    endStep(options, i, sigmas, x, denoised)
  }
  return v.result(x)
}
