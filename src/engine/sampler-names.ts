/**
 * Sampler names: ComfyUI's canonical names, the aliases the seed APIs use (Segmind, A1111-style, k-diffusion
 * `k_` names), and the mapping from diffusers scheduler classes (Scenario's `scheduler` parameter) to a
 * sampler + schedule pair. The reasons for each mapping are in docs/samplers.md.
 * @module
 */
import type { SchedulerName } from './schedules/index.js'

/** Canonical sampler names, ComfyUI spelling, in ComfyUI's menu order. */
export const SAMPLER_NAMES = [
  'euler',
  'euler_ancestral',
  'heun',
  'heunpp2',
  'exp_heun_2_x0',
  'exp_heun_2_x0_sde',
  'dpm_2',
  'dpm_2_ancestral',
  'lms',
  'dpm_fast',
  'dpm_adaptive',
  'dpmpp_2s_ancestral',
  'dpmpp_sde',
  'dpmpp_2m',
  'dpmpp_2m_sde',
  'dpmpp_2m_sde_heun',
  'dpmpp_3m_sde',
  'ddpm',
  'lcm',
  'ipndm',
  'ipndm_v',
  'deis',
  'res_multistep',
  'res_multistep_ancestral',
  'gradient_estimation',
  'er_sde',
  'seeds_2',
  'seeds_3',
  'sa_solver',
  'sa_solver_pece',
  'ddim',
  'uni_pc',
  'uni_pc_bh2',
] as const

export type SamplerName = (typeof SAMPLER_NAMES)[number]

const STOCHASTIC: ReadonlySet<SamplerName> = new Set<SamplerName>([
  'euler_ancestral',
  'dpm_2_ancestral',
  'dpmpp_2s_ancestral',
  'dpmpp_sde',
  'dpmpp_2m_sde',
  'dpmpp_2m_sde_heun',
  'dpmpp_3m_sde',
  'ddpm',
  'lcm',
  'res_multistep_ancestral',
  'er_sde',
  'exp_heun_2_x0_sde',
  'seeds_2',
  'seeds_3',
  'sa_solver',
  'sa_solver_pece',
])

/**
 * Alternative spellings, keyed by their normalised form (see {@link normalise}). Covers Segmind's
 * `sampler_name` values, k-diffusion / InvokeAI `k_*` names, ComfyUI's `_gpu` variants (the same sampler once
 * the noise is injected) and A1111 display names.
 */
const ALIASES: Readonly<Record<string, SamplerName>> = Object.freeze({
  euler_a: 'euler_ancestral',
  dpm_2_a: 'dpm_2_ancestral',
  dpm2_a: 'dpm_2_ancestral',
  dpm2: 'dpm_2',
  dpmpp_2s_a: 'dpmpp_2s_ancestral',
  dpmpp_sde_gpu: 'dpmpp_sde',
  dpmpp_2m_sde_gpu: 'dpmpp_2m_sde',
  dpmpp_2m_sde_heun_gpu: 'dpmpp_2m_sde_heun',
  dpmpp_3m_sde_gpu: 'dpmpp_3m_sde',
  unipc: 'uni_pc',
})

/** A1111 schedule suffixes ("DPM++ 2M Karras") and scheduler names, normalised. */
const SCHEDULER_ALIASES: Readonly<Record<string, SchedulerName>> = Object.freeze({
  karras: 'karras',
  exponential: 'exponential',
  sgm_uniform: 'sgm_uniform',
  simple: 'simple',
  normal: 'normal',
  uniform: 'normal',
  beta: 'beta',
  kl_optimal: 'kl_optimal',
  ddim: 'ddim_uniform',
  ddim_uniform: 'ddim_uniform',
  linear_quadratic: 'linear_quadratic',
})

const CANONICAL: ReadonlySet<string> = new Set(SAMPLER_NAMES)

/** "DPM++ 2M SDE" → "dpmpp_2m_sde", "k_euler_a" → "euler_a", "Euler a" → "euler_a". */
function normalise(name: string): string {
  return name
    .trim()
    .toLowerCase()
    .replace(/\+\+/g, 'pp')
    .replace(/[\s-]+/g, '_')
    .replace(/^k_/, '')
}

function lookup(key: string): SamplerName | undefined {
  if (CANONICAL.has(key)) return key as SamplerName
  return Object.hasOwn(ALIASES, key) ? ALIASES[key] : undefined
}

function unknownSampler(name: string): RangeError {
  return new RangeError(`unknown sampler "${name}"; valid samplers: ${SAMPLER_NAMES.join(', ')}`)
}

export interface SamplerSpec {
  readonly sampler: SamplerName
  /** Present when the name carried a schedule, A1111 style ("DPM++ 2M Karras"). */
  readonly scheduler?: SchedulerName
}

/**
 * Resolves any accepted spelling to a sampler and, for A1111-style names with a schedule suffix, the schedule.
 * Throws a RangeError naming the valid samplers otherwise.
 */
export function resolveSamplerSpec(name: string): SamplerSpec {
  const key = normalise(name)
  const direct = lookup(key)
  if (direct) return { sampler: direct }
  const cut = key.lastIndexOf('_')
  for (let at = cut; at > 0; at = key.lastIndexOf('_', at - 1)) {
    const sampler = lookup(key.slice(0, at))
    const suffix = key.slice(at + 1)
    const scheduler = Object.hasOwn(SCHEDULER_ALIASES, suffix) ? SCHEDULER_ALIASES[suffix] : undefined
    if (sampler && scheduler) return { sampler, scheduler }
  }
  throw unknownSampler(name)
}

/** Canonical (ComfyUI) name of a sampler given in any accepted spelling; RangeError listing valid names. */
export function resolveSampler(name: string): SamplerName {
  return resolveSamplerSpec(name).sampler
}

/** True when the sampler draws noise during sampling (it then needs `options.noise`). */
export function isStochastic(sampler: string): boolean {
  return STOCHASTIC.has(resolveSampler(sampler))
}

export interface DiffusersMapping {
  readonly sampler: SamplerName
  readonly scheduler: SchedulerName
  /** Set when the diffusers scheduler is the deterministic member of an ancestral family. */
  readonly eta?: number
}

/** diffusers scheduler class → the closest ComfyUI sampler and schedule (reasons in docs/samplers.md). */
const DIFFUSERS: Readonly<Record<string, DiffusersMapping>> = Object.freeze({
  EulerDiscreteScheduler: { sampler: 'euler', scheduler: 'normal' },
  EulerAncestralDiscreteScheduler: { sampler: 'euler_ancestral', scheduler: 'normal' },
  DPMSolverMultistepScheduler: { sampler: 'dpmpp_2m', scheduler: 'normal' },
  DPMSolverSinglestepScheduler: { sampler: 'dpmpp_2s_ancestral', scheduler: 'normal', eta: 0 },
  HeunDiscreteScheduler: { sampler: 'heun', scheduler: 'normal' },
  KDPM2DiscreteScheduler: { sampler: 'dpm_2', scheduler: 'normal' },
  KDPM2AncestralDiscreteScheduler: { sampler: 'dpm_2_ancestral', scheduler: 'normal' },
  LMSDiscreteScheduler: { sampler: 'lms', scheduler: 'normal' },
  LCMScheduler: { sampler: 'lcm', scheduler: 'sgm_uniform' },
  DDIMScheduler: { sampler: 'ddim', scheduler: 'ddim_uniform' },
  DDPMScheduler: { sampler: 'ddpm', scheduler: 'ddim_uniform' },
  UniPCMultistepScheduler: { sampler: 'uni_pc_bh2', scheduler: 'normal' },
  DEISMultistepScheduler: { sampler: 'deis', scheduler: 'normal' },
  PNDMScheduler: { sampler: 'ipndm', scheduler: 'ddim_uniform' },
  TCDScheduler: { sampler: 'lcm', scheduler: 'sgm_uniform' },
})

/** The diffusers scheduler class names {@link diffusersScheduler} accepts. */
export const DIFFUSERS_SCHEDULERS: readonly string[] = Object.freeze(Object.keys(DIFFUSERS))

/** Maps a diffusers scheduler class name (e.g. Scenario's `scheduler`) to a sampler and schedule. */
export function diffusersScheduler(name: string): DiffusersMapping {
  const mapping = Object.hasOwn(DIFFUSERS, name) ? DIFFUSERS[name] : undefined
  if (!mapping) {
    throw new RangeError(`unknown diffusers scheduler "${name}"; valid: ${DIFFUSERS_SCHEDULERS.join(', ')}`)
  }
  return mapping
}
