/**
 * Pigment's diffusion engine: schedules, samplers, guidance and seeded noise. Pure math, no I/O.
 * @module
 */

export type { DiscreteSamplingOptions, FlowSamplingOptions, RawModel } from './model-sampling.js'
export { discreteSampling, flowSampling, maxDenoise, wrapModel } from './model-sampling.js'
export type { Denoiser, ModelSampling, NoiseSource, Prediction, SampleOptions, StepInfo } from './types.js'
