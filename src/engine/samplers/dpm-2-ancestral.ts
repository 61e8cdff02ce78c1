/**
 * DPM-2 ancestral: a DPM-2 step to σ_down, then fresh noise back up to σ'. Flow models use ComfyUI's RF split.
 * @module
 */
import type { Denoiser } from '../types.js'
import { ancestralStep, endStep, evaluate, rfAncestralStep, type SamplerOptions } from './common.js'
import { dpm2Step } from './dpm-2.js'

/**
 * k-diffusion `sample_dpm_2_ancestral` (VE) and ComfyUI `sample_dpm_2_ancestral_RF` (flow). When σ_down = 0 the
 * step is Euler to 0 and no noise is drawn. The RF variant draws noise on every other step, even at η = 0.
 */
export async function sampleDpm2Ancestral(
  denoise: Denoiser,
  input: Float32Array,
  sigmas: Float64Array,
  options: SamplerOptions,
): Promise<Float32Array> {
  const eta = options.eta ?? 1
  const x = input.slice()
  const d = new Float32Array(x.length)
  const scratch = new Float32Array(x.length)
  for (let i = 0; i < sigmas.length - 1; i++) {
    const sigma = sigmas[i]
    const sigmaNext = sigmas[i + 1]
    let denoised = await evaluate(denoise, x, sigma)
    const { sigmaDown, signalRatio, noiseScale } = split(sigma, sigmaNext, eta, options.flow)
    for (let k = 0; k < x.length; k++) d[k] = (x[k] - denoised[k]) / sigma
    if (sigmaDown === 0) {
      const dt = sigmaDown - sigma
      for (let k = 0; k < x.length; k++) x[k] += d[k] * dt
    } else {
      denoised = await dpm2Step(denoise, x, d, sigma, sigmaDown, scratch)
      const n = options.noise(x.length)
      const amount = options.sNoise * noiseScale
      for (let k = 0; k < x.length; k++) x[k] = signalRatio * x[k] + amount * n[k]
    }
    endStep(options, i, sigmas, x, denoised)
  }
  return x
}

/** VE split (signal kept) or RF split (signal rescaled by α'/α_down), in one shape. */
function split(sigma: number, sigmaNext: number, eta: number, flow: boolean) {
  if (!flow) {
    const { sigmaDown, sigmaUp } = ancestralStep(sigma, sigmaNext, eta)
    return { sigmaDown, signalRatio: 1, noiseScale: sigmaUp }
  }
  const { sigmaDown, alphaRatio, renoise } = rfAncestralStep(sigma, sigmaNext, eta)
  return { sigmaDown, signalRatio: alphaRatio, noiseScale: renoise }
}
