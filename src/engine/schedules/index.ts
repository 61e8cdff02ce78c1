/**
 * Noise schedules by ComfyUI scheduler name (`comfy/samplers.py` `SCHEDULER_HANDLERS`), plus ComfyUI's
 * `KSampler` rules for sampler-specific σ lists and partial denoise.
 * @module
 */
import type { ModelSampling } from '../types.js'
import { betaSigmas } from './beta.js'
import { ddimUniformSigmas } from './ddim-uniform.js'
import { exponentialSigmas } from './exponential.js'
import { karrasSigmas } from './karras.js'
import { klOptimalSigmas } from './kl-optimal.js'
import { linearQuadraticSigmas } from './linear-quadratic.js'
import { normalSigmas, sgmUniformSigmas } from './normal.js'
import { simpleSigmas } from './simple.js'
import { assertSteps } from './steps.js'

export { betaCdf, betaQuantile } from './beta-distribution.js'
export {
  betaSigmas,
  ddimUniformSigmas,
  exponentialSigmas,
  karrasSigmas,
  klOptimalSigmas,
  linearQuadraticSigmas,
  normalSigmas,
  sgmUniformSigmas,
  simpleSigmas,
}

/** ComfyUI's scheduler names, in its order (`SCHEDULER_NAMES`; the first, `simple`, is the default). */
export const SCHEDULER_NAMES = [
  'simple',
  'sgm_uniform',
  'karras',
  'exponential',
  'ddim_uniform',
  'beta',
  'normal',
  'linear_quadratic',
  'kl_optimal',
] as const

export type SchedulerName = (typeof SCHEDULER_NAMES)[number]

export function isSchedulerName(name: unknown): name is SchedulerName {
  return typeof name === 'string' && (SCHEDULER_NAMES as readonly string[]).includes(name)
}

type Scheduler = (sampling: ModelSampling, steps: number) => number[]

/** Schedulers that only use σ_min and σ_max get ComfyUI's float32 table endpoints. */
const SCHEDULERS: Readonly<Record<SchedulerName, Scheduler>> = Object.freeze({
  simple: simpleSigmas,
  sgm_uniform: sgmUniformSigmas,
  karras: (sampling, steps) => karrasSigmas(steps, sampling.sigmaMin, sampling.sigmaMax),
  exponential: (sampling, steps) => exponentialSigmas(steps, sampling.sigmaMin, sampling.sigmaMax),
  ddim_uniform: ddimUniformSigmas,
  beta: (sampling, steps) => betaSigmas(sampling, steps),
  normal: normalSigmas,
  linear_quadratic: (sampling, steps) => linearQuadraticSigmas(sampling, steps),
  kl_optimal: (sampling, steps) => klOptimalSigmas(steps, sampling.sigmaMin, sampling.sigmaMax),
})

/**
 * ComfyUI `calculate_sigmas(model_sampling, scheduler, steps)`: a descending σ list ending in 0, normally
 * steps + 1 long (`ddim_uniform` and `beta` can differ, as in ComfyUI).
 */
export function computeSigmas(scheduler: string, steps: number, sampling: ModelSampling): number[] {
  if (!isSchedulerName(scheduler)) {
    throw new RangeError(`unknown scheduler '${scheduler}'; valid schedulers: ${SCHEDULER_NAMES.join(', ')}`)
  }
  assertSteps(steps, `scheduler '${scheduler}'`)
  return SCHEDULERS[scheduler](sampling, steps)
}

/** Samplers for which ComfyUI computes steps + 1 sigmas and drops the penultimate one. */
export const DISCARD_PENULTIMATE_SIGMA_SAMPLERS: ReadonlySet<string> = new Set([
  'dpm_2',
  'dpm_2_ancestral',
  'uni_pc',
  'uni_pc_bh2',
])

/**
 * ComfyUI `KSampler.calculate_sigmas`: the scheduler's sigmas, except that for `dpm_2`, `dpm_2_ancestral`,
 * `uni_pc` and `uni_pc_bh2` it computes steps + 1 of them and drops the penultimate σ (still `steps` steps, but
 * the final jump to 0 starts from a higher σ).
 */
export function samplerSigmas(
  sampler: string,
  scheduler: string,
  steps: number,
  sampling: ModelSampling,
): number[] {
  if (!DISCARD_PENULTIMATE_SIGMA_SAMPLERS.has(sampler)) return computeSigmas(scheduler, steps, sampling)
  assertSteps(steps, `scheduler '${scheduler}'`)
  const sigmas = computeSigmas(scheduler, steps + 1, sampling)
  return [...sigmas.slice(0, -2), ...sigmas.slice(-1)]
}

/**
 * ComfyUI `KSampler.set_steps` for img2img: with `denoise` < 1 the schedule is built for ⌊steps/denoise⌋ steps
 * and only its last steps + 1 sigmas are kept; denoise ≤ 0 gives no steps, denoise > 0.9999 the full schedule.
 */
export function partialDenoiseSigmas(
  sigmasFor: (steps: number) => number[],
  steps: number,
  denoise = 1,
): number[] {
  assertSteps(steps, 'partialDenoiseSigmas')
  if (Number.isNaN(denoise)) throw new RangeError('partialDenoiseSigmas: denoise is NaN')
  if (denoise > 0.9999) return sigmasFor(steps)
  if (denoise <= 0) return []
  return sigmasFor(Math.trunc(steps / denoise)).slice(-(steps + 1))
}
