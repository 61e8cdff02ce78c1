import { describe, expect, it } from 'vitest'
import {
  DIFFUSERS_SCHEDULERS,
  diffusersScheduler,
  isStochastic,
  resolveSampler,
  resolveSamplerSpec,
  SAMPLER_NAMES,
} from './sampler-names.js'

describe('resolveSampler', () => {
  it('accepts every canonical ComfyUI name as is', () => {
    for (const name of SAMPLER_NAMES) expect(resolveSampler(name)).toBe(name)
  })

  it("accepts Segmind's sampler_name values", () => {
    // the values listed in Segmind's Chroma API documents (shared/seeds/001, 002)
    const segmind: Record<string, string> = {
      euler: 'euler',
      euler_a: 'euler_ancestral',
      heun: 'heun',
      dpm_2: 'dpm_2',
      dpm_2_a: 'dpm_2_ancestral',
      lms: 'lms',
      dpm_fast: 'dpm_fast',
      dpm_adaptive: 'dpm_adaptive',
      dpmpp_2s_a: 'dpmpp_2s_ancestral',
      dpmpp_sde: 'dpmpp_sde',
      dpmpp_2m: 'dpmpp_2m',
      dpmpp_2m_sde: 'dpmpp_2m_sde',
    }
    for (const [alias, canonical] of Object.entries(segmind)) expect(resolveSampler(alias)).toBe(canonical)
  })

  it('accepts k-diffusion k_ names and ComfyUI _gpu variants', () => {
    expect(resolveSampler('k_euler')).toBe('euler')
    expect(resolveSampler('k_euler_a')).toBe('euler_ancestral')
    expect(resolveSampler('k_dpmpp_2m')).toBe('dpmpp_2m')
    expect(resolveSampler('k_dpm_2_a')).toBe('dpm_2_ancestral')
    expect(resolveSampler('k_lms')).toBe('lms')
    expect(resolveSampler('dpmpp_3m_sde_gpu')).toBe('dpmpp_3m_sde')
  })

  it('splits A1111 display names into sampler and schedule', () => {
    expect(resolveSamplerSpec('DPM++ 2M Karras')).toEqual({ sampler: 'dpmpp_2m', scheduler: 'karras' })
    expect(resolveSamplerSpec('DPM++ SDE Karras')).toEqual({ sampler: 'dpmpp_sde', scheduler: 'karras' })
    expect(resolveSamplerSpec('DPM++ 2M SDE Exponential')).toEqual({
      sampler: 'dpmpp_2m_sde',
      scheduler: 'exponential',
    })
    expect(resolveSamplerSpec('Euler SGM Uniform')).toEqual({ sampler: 'euler', scheduler: 'sgm_uniform' })
    expect(resolveSamplerSpec('Euler a')).toEqual({ sampler: 'euler_ancestral' })
    expect(resolveSamplerSpec('DPM2 a Karras')).toEqual({ sampler: 'dpm_2_ancestral', scheduler: 'karras' })
    expect(resolveSamplerSpec('DPM++ 2S a')).toEqual({ sampler: 'dpmpp_2s_ancestral' })
    expect(resolveSampler('UniPC')).toBe('uni_pc')
    expect(resolveSampler('LMS Karras')).toBe('lms')
  })

  it('rejects unknown names with a RangeError that lists the valid ones', () => {
    expect(() => resolveSampler('euler_b')).toThrow(RangeError)
    expect(() => resolveSampler('euler_b')).toThrow(/euler_b.*dpmpp_2m.*uni_pc_bh2/)
    expect(() => resolveSampler('')).toThrow(RangeError)
    expect(() => resolveSampler('toString')).toThrow(RangeError)
    expect(() => resolveSampler('constructor')).toThrow(RangeError)
    expect(() => resolveSampler('euler_constructor')).toThrow(RangeError)
    expect(() => resolveSampler('DPM++ 2M Sideways')).toThrow(RangeError)
  })
})

describe('isStochastic', () => {
  it('marks the samplers that draw noise', () => {
    for (const name of [
      'euler_a',
      'dpm_2_ancestral',
      'dpmpp_2s_a',
      'dpmpp_sde',
      'dpmpp_2m_sde',
      'lcm',
      'ddpm',
    ]) {
      expect(isStochastic(name), name).toBe(true)
    }
    for (const name of ['euler', 'heun', 'lms', 'dpmpp_2m', 'ddim', 'uni_pc', 'dpm_fast', 'dpm_adaptive']) {
      expect(isStochastic(name), name).toBe(false)
    }
  })
})

describe('diffusersScheduler', () => {
  it("maps every scheduler class of Scenario's API to a known sampler", () => {
    const scenario = [
      'DDIMScheduler',
      'DDPMScheduler',
      'DEISMultistepScheduler',
      'DPMSolverMultistepScheduler',
      'DPMSolverSinglestepScheduler',
      'EulerAncestralDiscreteScheduler',
      'EulerDiscreteScheduler',
      'HeunDiscreteScheduler',
      'KDPM2AncestralDiscreteScheduler',
      'KDPM2DiscreteScheduler',
      'LCMScheduler',
      'LMSDiscreteScheduler',
      'PNDMScheduler',
      'TCDScheduler',
      'UniPCMultistepScheduler',
    ]
    expect([...DIFFUSERS_SCHEDULERS].sort()).toEqual(scenario)
    for (const name of scenario) expect(SAMPLER_NAMES).toContain(diffusersScheduler(name).sampler)
  })

  it('picks the matching k-diffusion family member', () => {
    expect(diffusersScheduler('EulerAncestralDiscreteScheduler')).toEqual({
      sampler: 'euler_ancestral',
      scheduler: 'normal',
    })
    expect(diffusersScheduler('DPMSolverMultistepScheduler').sampler).toBe('dpmpp_2m')
    expect(diffusersScheduler('KDPM2AncestralDiscreteScheduler').sampler).toBe('dpm_2_ancestral')
    expect(diffusersScheduler('DDIMScheduler')).toEqual({ sampler: 'ddim', scheduler: 'ddim_uniform' })
    expect(diffusersScheduler('DPMSolverSinglestepScheduler').eta).toBe(0)
  })

  it('rejects unknown classes', () => {
    expect(() => diffusersScheduler('FlowMatchHeunScheduler')).toThrow(
      /FlowMatchHeunScheduler.*EulerDiscrete/,
    )
    expect(() => diffusersScheduler('constructor')).toThrow(RangeError)
  })
})
