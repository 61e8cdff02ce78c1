/**
 * Pigment's diffusion engine: schedules, samplers, guidance and seeded noise. Pure math, no I/O.
 * @module
 */

export type { BatchedModel, GuidedDenoiserOptions } from './guidance.js'
export { cfgCombine, guidedDenoiser } from './guidance.js'
export type { DiscreteSamplingOptions, FlowSamplingOptions, RawModel } from './model-sampling.js'
export { discreteSampling, flowSampling, maxDenoise, wrapModel } from './model-sampling.js'
export type { Seed } from './rng/mt19937.js'
export { Mt19937 } from './rng/mt19937.js'
export { createNoiseSource, TorchGenerator, torchRandn } from './rng/torch-randn.js'
export { sample } from './sample.js'
export type { DiffusersMapping, SamplerName, SamplerSpec } from './sampler-names.js'
export {
  DIFFUSERS_SCHEDULERS,
  diffusersScheduler,
  isStochastic,
  resolveSampler,
  resolveSamplerSpec,
  SAMPLER_NAMES,
} from './sampler-names.js'
export type { SchedulerName } from './schedules/index.js'
export {
  betaSigmas,
  computeSigmas,
  DISCARD_PENULTIMATE_SIGMA_SAMPLERS,
  ddimUniformSigmas,
  exponentialSigmas,
  isSchedulerName,
  karrasSigmas,
  klOptimalSigmas,
  linearQuadraticSigmas,
  normalSigmas,
  partialDenoiseSigmas,
  SCHEDULER_NAMES,
  samplerSigmas,
  sgmUniformSigmas,
  simpleSigmas,
} from './schedules/index.js'
export type { Denoiser, ModelSampling, NoiseSource, Prediction, SampleOptions, StepInfo } from './types.js'
