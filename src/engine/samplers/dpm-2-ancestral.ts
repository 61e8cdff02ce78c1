/**
 * DPM-2 ancestral: a DPM-2 step to σ_down, then fresh noise back up to σ'. Flow models use ComfyUI's RF split.
 * @module
 */
import type { Denoiser } from '../types.js'
import { VectorSpace } from '../vector-ops.js'
import { ancestralStep, endStep, evaluate, rfAncestralStep, type SamplerOptions } from './common.js'
import { dpm2Midpoint } from './dpm-2.js'

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
  const v = new VectorSpace(input.length, 2)
  const x = v.copyOf(input)
  const midpoint = v.vector()
  for (let i = 0; i < sigmas.length - 1; i++) {
    const sigma = sigmas[i]
    const sigmaNext = sigmas[i + 1]
    let denoised = await evaluate(denoise, x, sigma)
    const { sigmaDown, signalRatio, noiseScale } = split(sigma, sigmaNext, eta, options.flow)
    if (sigmaDown === 0) {
      // Euler to 0 lands on D: x + d·(0 − σ) = 0·x + 1·D
      v.combine2(x, 0, x, 1, denoised)
    } else {
      const mid = await dpm2Midpoint(v, denoise, x, denoised, sigma, sigmaDown, midpoint)
      denoised = mid.denoised
      const n = options.noise(x.length)
      // x ← r·(x + (x_mid − D_mid)/σ_mid·(σ_down − σ)) + s_noise·σ_up·n, r the RF signal ratio (1 for VE)
      const c = (signalRatio * (sigmaDown - sigma)) / mid.sigmaMid
      const amount = options.sNoise * noiseScale
      v.combine(x, [signalRatio, c, -c, amount], [x, midpoint, denoised, n])
    }
    endStep(options, i, sigmas, x, denoised)
  }
  return v.result(x)
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
