/**
 * Pigment's diffusion engine: schedules, samplers, guidance and seeded noise. Pure math, no I/O.
 * @module
 */
export type { Denoiser, ModelSampling, NoiseSource, Prediction, SampleOptions, StepInfo } from './types.js'
