/**
 * Pieces every sampler shares: the options a sampler function receives, the ancestral splits (VE and rectified
 * flow), the half-log-SNR λ of a noise level and its inverse, and the denoiser call with its checks.
 * Formulas follow ComfyUI `comfy/k_diffusion/sampling.py` (see docs/samplers.md and the engine spec §3.0).
 * @module
 */
import type { Denoiser, ModelSampling, NoiseSource, StepInfo } from '../types.js'

/** What `sample()` hands a sampler function once the public options are resolved. */
export interface SamplerOptions {
  /** Noise amount as given by the caller; each sampler applies ComfyUI's default when undefined. */
  readonly eta: number | undefined
  readonly sNoise: number
  /** True for rectified-flow models (ComfyUI `CONST`): switches the RF variants and the flow half-log-SNR. */
  readonly flow: boolean
  readonly sampling: ModelSampling | undefined
  /** Next n standard normals; throws a clear error when the caller gave no noise source. */
  readonly noise: NoiseSource
  /** End of a step: reports progress, then throws the abort reason if the signal fired. */
  readonly step: (info: StepInfo) => void
}

/**
 * A sampler: integrates from sigmas[0] down the schedule and returns a new array (never `x` itself nor an array
 * the denoiser returned). `x` is not modified.
 */
export type SamplerFn = (
  denoise: Denoiser,
  x: Float32Array,
  sigmas: Float64Array,
  options: SamplerOptions,
) => Promise<Float32Array>

/**
 * Calls the denoiser and checks its answer. A result aliasing the input is copied, because samplers update
 * their state in place while still reading the estimate.
 */
export async function evaluate(denoise: Denoiser, x: Float32Array, sigma: number): Promise<Float32Array> {
  const denoised = await denoise(x, sigma)
  if (!(denoised instanceof Float32Array) || denoised.length !== x.length) {
    throw new RangeError(
      `denoiser returned ${describe(denoised)}; expected a Float32Array of ${x.length} elements`,
    )
  }
  return denoised === x ? denoised.slice() : denoised
}

function describe(value: unknown): string {
  if (value instanceof Float32Array) return `${value.length} elements`
  return value === null ? 'null' : typeof value
}

export interface AncestralStep {
  readonly sigmaDown: number
  readonly sigmaUp: number
}

/**
 * Splits a step σ → σ' into a deterministic move to σ_down and fresh noise of size σ_up with
 * σ_down² + σ_up² = σ'² (k-diffusion `get_ancestral_step`; Ho et al. 2020 ancestral sampling).
 */
export function ancestralStep(sigmaFrom: number, sigmaTo: number, eta = 1): AncestralStep {
  if (!eta) return { sigmaDown: sigmaTo, sigmaUp: 0 }
  const sigmaUp = Math.min(
    sigmaTo,
    eta * Math.sqrt((sigmaTo ** 2 * (sigmaFrom ** 2 - sigmaTo ** 2)) / sigmaFrom ** 2),
  )
  return { sigmaDown: Math.sqrt(sigmaTo ** 2 - sigmaUp ** 2), sigmaUp }
}

export interface RfAncestralStep {
  readonly sigmaDown: number
  /** α(σ')/α(σ_down) with α = 1 − σ: rescales the signal after the deterministic move. */
  readonly alphaRatio: number
  /** Standard deviation of the fresh noise that brings the state back to σ'. */
  readonly renoise: number
}

/**
 * The rectified-flow ancestral split of ComfyUI's `*_RF` samplers: the deterministic move goes to
 * σ_down = σ'(1 + (σ'/σ − 1)η), then x is rescaled by α'/α_down and noise restores x = (1−σ')x0 + σ'n.
 */
export function rfAncestralStep(sigma: number, sigmaNext: number, eta: number): RfAncestralStep {
  const sigmaDown = sigmaNext * (1 + (sigmaNext / sigma - 1) * eta)
  const alphaNext = 1 - sigmaNext
  const alphaDown = 1 - sigmaDown
  // Rounding can make the radicand a hair negative when η ≈ 0; the noise is then zero.
  const radicand = sigmaNext ** 2 - (sigmaDown ** 2 * alphaNext ** 2) / alphaDown ** 2
  return { sigmaDown, alphaRatio: alphaNext / alphaDown, renoise: Math.sqrt(Math.max(0, radicand)) }
}

/** Half-log-SNR λ = log(α/σ): −log σ for VE, log((1−σ)/σ) for rectified flow (ComfyUI `sigma_to_half_log_snr`). */
export function halfLogSnr(sigma: number, flow: boolean): number {
  return flow ? Math.log((1 - sigma) / sigma) : -Math.log(sigma)
}

/** Inverse of {@link halfLogSnr} (ComfyUI `half_log_snr_to_sigma`). */
export function sigmaFromHalfLogSnr(lambda: number, flow: boolean): number {
  return flow ? 1 / (1 + Math.exp(lambda)) : Math.exp(-lambda)
}

/** Signal scale α(σ): 1 for VE, 1 − σ for rectified flow. */
export function signalScale(sigma: number, flow: boolean): number {
  return flow ? 1 - sigma : 1
}

/**
 * ComfyUI `offset_first_sigma_for_snr`: on flow models a first σ ≥ 1 has λ = −∞, so it is replaced by
 * `percent_to_sigma(1e-4)`. Returns the schedule unchanged otherwise (the caller's array is never modified).
 */
export function offsetFirstSigmaForSnr(sigmas: Float64Array, options: SamplerOptions): Float64Array {
  if (sigmas.length <= 1 || !options.flow || sigmas[0] < 1) return sigmas
  const offset = sigmas.slice()
  offset[0] = options.sampling ? options.sampling.percentToSigma(1e-4) : 0.9999
  return offset
}

/** Reports the end of step i (progress and abort). */
export function endStep(
  options: SamplerOptions,
  step: number,
  sigmas: ArrayLike<number>,
  x: Float32Array,
  denoised: Float32Array,
): void {
  options.step({
    step,
    steps: sigmas.length - 1,
    sigma: sigmas[step],
    sigmaNext: sigmas[step + 1],
    x,
    denoised,
  })
}
