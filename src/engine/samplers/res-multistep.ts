/**
 * RES multistep (`res_multistep`, `res_multistep_ancestral`), ComfyUI `res_multistep`.
 * @module
 */
import type { Denoiser } from '../types.js'
import { VectorSpace } from '../vector-ops.js'
import { ancestralStep, endStep, evaluate, type SamplerOptions } from './common.js'

/**
 * The second-order multistep exponential integrator of Zhang et al. 2023 ("Improved Order Analysis and Design
 * of Exponential Integrator for Diffusion Models", arXiv 2308.02157) in t = −log σ:
 * x ← e^{−h}x + h(b₁D + b₂D_prev) with b₁ = φ₁ − φ₂/c₂, b₂ = φ₂/c₂, moving to σ_down of the ancestral split
 * and re-noising by σ_up while σ' > 0. The first step and a step with σ_down = 0 are Euler. `res_multistep`
 * is η = 0 (deterministic: ComfyUI's draw times σ_up = 0 is not made); the ancestral form defaults to η = 1.
 */
async function resMultistep(
  eta: number,
  denoise: Denoiser,
  input: Float32Array,
  sigmas: Float64Array,
  options: SamplerOptions,
): Promise<Float32Array> {
  const v = new VectorSpace(input.length, 3)
  const x = v.copyOf(input)
  // D is copied in once and kept as the next step's D_prev.
  let current = v.vector()
  let previous = v.vector()
  let previousSigmaDown = 0
  for (let i = 0; i < sigmas.length - 1; i++) {
    const sigma = sigmas[i]
    const sigmaNext = sigmas[i + 1]
    const denoised = await evaluate(denoise, x, sigma)
    current.set(denoised)
    const { sigmaDown, sigmaUp } = ancestralStep(sigma, sigmaNext, eta)
    // x ← a·x + b·D + c·D_prev, then + s_noise·σ_up·n while σ' > 0
    let a: number
    let b: number
    let c = 0
    if (sigmaDown === 0 || i === 0) {
      // Euler to σ_down: x + (x − D)/σ·(σ_down − σ)
      a = sigmaDown / sigma
      b = 1 - a
    } else {
      const t = -Math.log(sigma)
      const tOld = -Math.log(previousSigmaDown)
      const tNext = -Math.log(sigmaDown)
      const tPrev = -Math.log(sigmas[i - 1])
      const h = tNext - t
      const c2 = (tPrev - tOld) / h
      const phi1 = Math.expm1(-h) / -h
      const phi2 = (phi1 - 1) / -h
      const b1 = zeroIfNaN(phi1 - phi2 / c2)
      const b2 = zeroIfNaN(phi2 / c2)
      a = Math.exp(-h)
      b = h * b1
      c = h * b2
    }
    const weights = [a, b]
    const terms = [x, current]
    if (c !== 0) {
      weights.push(c)
      terms.push(previous)
    }
    if (sigmaNext > 0 && eta !== 0) {
      weights.push(options.sNoise * sigmaUp)
      terms.push(options.noise(x.length))
    }
    v.combine(x, weights, terms)
    ;[current, previous] = [previous, current]
    previousSigmaDown = sigmaDown
    endStep(options, i, sigmas, x, denoised)
  }
  return v.result(x)
}

/** torch.nan_to_num(v, nan=0) as ComfyUI uses it (infinities become ±max float, which never occurs here). */
function zeroIfNaN(value: number): number {
  return Number.isNaN(value) ? 0 : value
}

export function sampleResMultistep(
  denoise: Denoiser,
  x: Float32Array,
  sigmas: Float64Array,
  options: SamplerOptions,
): Promise<Float32Array> {
  return resMultistep(0, denoise, x, sigmas, options)
}

export function sampleResMultistepAncestral(
  denoise: Denoiser,
  x: Float32Array,
  sigmas: Float64Array,
  options: SamplerOptions,
): Promise<Float32Array> {
  return resMultistep(options.eta ?? 1, denoise, x, sigmas, options)
}
