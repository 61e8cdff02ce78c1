/**
 * AUTOMATIC1111 writes display names ("Euler a", "Karras") where Pigment uses ComfyUI's canonical names
 * (`euler_ancestral`, `karras`). These tables translate both ways; a name with no A1111 twin passes through
 * unchanged so nothing is lost.
 * @module
 */

const SAMPLER_DISPLAY_NAMES: Readonly<Record<string, string>> = Object.freeze({
  euler: 'Euler',
  euler_ancestral: 'Euler a',
  heun: 'Heun',
  lms: 'LMS',
  dpm_2: 'DPM2',
  dpm_2_ancestral: 'DPM2 a',
  dpm_fast: 'DPM fast',
  dpm_adaptive: 'DPM adaptive',
  dpmpp_2s_ancestral: 'DPM++ 2S a',
  dpmpp_2m: 'DPM++ 2M',
  dpmpp_sde: 'DPM++ SDE',
  dpmpp_2m_sde: 'DPM++ 2M SDE',
  dpmpp_2m_sde_heun: 'DPM++ 2M SDE Heun',
  dpmpp_3m_sde: 'DPM++ 3M SDE',
  lcm: 'LCM',
  ddim: 'DDIM',
  uni_pc: 'UniPC',
  // Forge, A1111's maintained fork, names the CFG++ variants this way.
  euler_cfg_pp: 'Euler CFG++',
  euler_ancestral_cfg_pp: 'Euler a CFG++',
})

const SCHEDULER_DISPLAY_NAMES: Readonly<Record<string, string>> = Object.freeze({
  normal: 'Normal',
  karras: 'Karras',
  exponential: 'Exponential',
  sgm_uniform: 'SGM Uniform',
  simple: 'Simple',
  ddim_uniform: 'DDIM',
  beta: 'Beta',
  kl_optimal: 'KL Optimal',
  polyexponential: 'Polyexponential',
  align_your_steps: 'Align Your Steps',
  uniform: 'Uniform',
})

function invert(table: Readonly<Record<string, string>>): ReadonlyMap<string, string> {
  return new Map(Object.entries(table).map(([canonical, display]) => [display, canonical]))
}

const SAMPLER_CANONICAL_NAMES = invert(SAMPLER_DISPLAY_NAMES)
const SCHEDULER_CANONICAL_NAMES = invert(SCHEDULER_DISPLAY_NAMES)

export function samplerDisplayName(canonical: string): string {
  return Object.hasOwn(SAMPLER_DISPLAY_NAMES, canonical) ? SAMPLER_DISPLAY_NAMES[canonical] : canonical
}

export function samplerCanonicalName(display: string): string {
  return SAMPLER_CANONICAL_NAMES.get(display) ?? display
}

export function schedulerDisplayName(canonical: string): string {
  return Object.hasOwn(SCHEDULER_DISPLAY_NAMES, canonical) ? SCHEDULER_DISPLAY_NAMES[canonical] : canonical
}

export function schedulerCanonicalName(display: string): string {
  return SCHEDULER_CANONICAL_NAMES.get(display) ?? display
}

/**
 * A1111 before 1.9 had no "Schedule type" field and folded the schedule into the sampler name
 * ("DPM++ 2M Karras"). Splits such a legacy name; returns null when the name carries no schedule.
 */
export function splitLegacySamplerName(display: string): { sampler: string; scheduler: string } | null {
  for (const suffix of ['Karras', 'Exponential'] as const) {
    const tail = ` ${suffix}`
    if (!display.endsWith(tail)) continue
    const base = display.slice(0, -tail.length)
    if (!SAMPLER_CANONICAL_NAMES.has(base)) continue
    return { sampler: samplerCanonicalName(base), scheduler: schedulerCanonicalName(suffix) }
  }
  return null
}
