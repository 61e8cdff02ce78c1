/**
 * Shared types of the diffusion engine. The engine is pure math: no I/O, no imports from the rest of Pigment.
 * @module
 */

/** What the network predicts: noise (SD), v (SD 2.x 768-v) or flow velocity (FLUX, Chroma, SD3). */
export type Prediction = 'eps' | 'v' | 'flow'

/**
 * How a model family maps noise levels to network inputs and back (ComfyUI `model_sampling`).
 * `discrete` is the 1000-step VP table of SD 1.x / 2.x / SDXL; `flow` is rectified flow with a time shift.
 */
export interface ModelSampling {
  readonly kind: 'discrete' | 'flow'
  readonly prediction: Prediction
  /** Ascending sigma table (ComfyUI `model_sampling.sigmas`), float32-rounded values. */
  readonly sigmas: Float64Array
  readonly sigmaMin: number
  readonly sigmaMax: number
  /** ComfyUI `timestep(sigma)`: the network's time input for a noise level. */
  sigmaToTimestep(sigma: number): number
  /** ComfyUI `sigma(timestep)`, interpolating between table entries. */
  timestepToSigma(timestep: number): number
  /** ComfyUI `percent_to_sigma`: 0 → sigmaMax side, 1 → 0. */
  percentToSigma(percent: number): number
  /** Starting latent for a noise level: ComfyUI `noise_scaling` (max-denoise rule for discrete models). */
  noiseScaling(
    sigma: number,
    noise: Float32Array,
    latent: Float32Array | null,
    maxDenoise: boolean,
  ): Float32Array
  /** ComfyUI `inverse_noise_scaling`, applied to the sampler's result. */
  inverseNoiseScaling(sigma: number, x: Float32Array): Float32Array
  /** c_in(σ)·x: what the network receives. */
  calculateInput(sigma: number, x: Float32Array): Float32Array
  /** c_skip(σ)·x + c_out(σ)·F: the denoised estimate (x0) from the raw network output F. */
  calculateDenoised(sigma: number, modelOutput: Float32Array, x: Float32Array): Float32Array
}

/** A denoiser D(x, σ) ≈ E[x0 | x], as k-diffusion's samplers see the model. */
export type Denoiser = (x: Float32Array, sigma: number) => Float32Array | Promise<Float32Array>

/** Returns the next n standard-normal values. Called exactly where ComfyUI draws sampler noise. */
export type NoiseSource = (n: number) => Float32Array

/** Reported after every sampler step. */
export interface StepInfo {
  /** Zero-based step index. */
  readonly step: number
  /** Total number of steps (sigmas.length − 1). */
  readonly steps: number
  readonly sigma: number
  readonly sigmaNext: number
  /** The state after the step. */
  readonly x: Float32Array
  /** The current x0 estimate, for previews. */
  readonly denoised: Float32Array
}

export interface SampleOptions {
  /** Sampler noise; required by stochastic samplers. */
  noise?: NoiseSource
  /** Ancestral / SDE noise amount; default is ComfyUI's (1 for most samplers). */
  eta?: number
  /** Noise multiplier; default 1. */
  sNoise?: number
  /** The model sampling; tells flow models apart (default: SD-style discrete eps). */
  sampling?: ModelSampling
  /** Stops sampling at the next step boundary. */
  signal?: AbortSignal
  onStep?: (info: StepInfo) => void
}
