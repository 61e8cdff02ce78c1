// The sampling nodes of ComfyUI 0.3.64 (nodes.py KSampler/KSamplerAdvanced, comfy_extras/nodes_custom_sampler.py)
// with the sampler and scheduler names comfy/samplers.py lists, in its order.

import type { InputSpec, NodeClass } from './catalogue.js'

// ComfyUI declares 0xffffffffffffffff; a JS number cannot hold it exactly, as a JS client cannot read it exactly
const MAX_SEED = 2 ** 64 - 1

export const SAMPLER_NAMES = [
  'euler',
  'euler_cfg_pp',
  'euler_ancestral',
  'euler_ancestral_cfg_pp',
  'heun',
  'heunpp2',
  'dpm_2',
  'dpm_2_ancestral',
  'lms',
  'dpm_fast',
  'dpm_adaptive',
  'dpmpp_2s_ancestral',
  'dpmpp_2s_ancestral_cfg_pp',
  'dpmpp_sde',
  'dpmpp_sde_gpu',
  'dpmpp_2m',
  'dpmpp_2m_cfg_pp',
  'dpmpp_2m_sde',
  'dpmpp_2m_sde_gpu',
  'dpmpp_2m_sde_heun',
  'dpmpp_2m_sde_heun_gpu',
  'dpmpp_3m_sde',
  'dpmpp_3m_sde_gpu',
  'ddpm',
  'lcm',
  'ipndm',
  'ipndm_v',
  'deis',
  'res_multistep',
  'res_multistep_cfg_pp',
  'res_multistep_ancestral',
  'res_multistep_ancestral_cfg_pp',
  'gradient_estimation',
  'gradient_estimation_cfg_pp',
  'er_sde',
  'seeds_2',
  'seeds_3',
  'sa_solver',
  'sa_solver_pece',
  'ddim',
  'uni_pc',
  'uni_pc_bh2',
]

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
]

const seedSpec = (tooltip?: string): InputSpec => [
  'INT',
  {
    default: 0,
    min: 0,
    max: MAX_SEED,
    control_after_generate: true,
    ...(tooltip ? { tooltip } : {}),
  },
]
const cfgSpec = (tooltip?: string): InputSpec => [
  'FLOAT',
  { default: 8.0, min: 0.0, max: 100.0, step: 0.1, round: 0.01, ...(tooltip ? { tooltip } : {}) },
]
export const SAMPLING_NODES: Record<string, NodeClass> = {
  KSampler: {
    required: {
      model: ['MODEL', { tooltip: 'The model used for denoising the input latent.' }],
      seed: seedSpec('The random seed used for creating the noise.'),
      steps: [
        'INT',
        { default: 20, min: 1, max: 10000, tooltip: 'The number of steps used in the denoising process.' },
      ],
      cfg: cfgSpec(
        'The Classifier-Free Guidance scale balances creativity and adherence to the prompt. Higher values result in images more closely matching the prompt however too high values will negatively impact quality.',
      ),
      sampler_name: [
        SAMPLER_NAMES,
        {
          tooltip:
            'The algorithm used when sampling, this can affect the quality, speed, and style of the generated output.',
        },
      ],
      scheduler: [
        SCHEDULER_NAMES,
        { tooltip: 'The scheduler controls how noise is gradually removed to form the image.' },
      ],
      positive: [
        'CONDITIONING',
        { tooltip: 'The conditioning describing the attributes you want to include in the image.' },
      ],
      negative: [
        'CONDITIONING',
        { tooltip: 'The conditioning describing the attributes you want to exclude from the image.' },
      ],
      latent_image: ['LATENT', { tooltip: 'The latent image to denoise.' }],
      denoise: [
        'FLOAT',
        {
          default: 1.0,
          min: 0.0,
          max: 1.0,
          step: 0.01,
          tooltip:
            'The amount of denoising applied, lower values will maintain the structure of the initial image allowing for image to image sampling.',
        },
      ],
    },
    output: ['LATENT'],
    category: 'sampling',
    displayName: 'KSampler',
    description: 'Uses the provided model, positive and negative conditioning to denoise the latent image.',
    outputTooltips: ['The denoised latent.'],
  },
  KSamplerAdvanced: {
    required: {
      model: ['MODEL'],
      add_noise: [['enable', 'disable']],
      noise_seed: seedSpec(),
      steps: ['INT', { default: 20, min: 1, max: 10000 }],
      cfg: cfgSpec(),
      sampler_name: [SAMPLER_NAMES],
      scheduler: [SCHEDULER_NAMES],
      positive: ['CONDITIONING'],
      negative: ['CONDITIONING'],
      latent_image: ['LATENT'],
      start_at_step: ['INT', { default: 0, min: 0, max: 10000 }],
      end_at_step: ['INT', { default: 10000, min: 0, max: 10000 }],
      return_with_leftover_noise: [['disable', 'enable']],
    },
    output: ['LATENT'],
    category: 'sampling',
    displayName: 'KSampler (Advanced)',
  },
  RandomNoise: {
    required: { noise_seed: seedSpec() },
    output: ['NOISE'],
    category: 'sampling/custom_sampling/noise',
    pythonModule: 'comfy_extras.nodes_custom_sampler',
  },
  CFGGuider: {
    required: {
      model: ['MODEL'],
      positive: ['CONDITIONING'],
      negative: ['CONDITIONING'],
      cfg: cfgSpec(),
    },
    output: ['GUIDER'],
    category: 'sampling/custom_sampling/guiders',
    pythonModule: 'comfy_extras.nodes_custom_sampler',
  },
  BasicGuider: {
    required: { model: ['MODEL'], conditioning: ['CONDITIONING'] },
    output: ['GUIDER'],
    category: 'sampling/custom_sampling/guiders',
    pythonModule: 'comfy_extras.nodes_custom_sampler',
  },
  KSamplerSelect: {
    required: { sampler_name: [SAMPLER_NAMES] },
    output: ['SAMPLER'],
    category: 'sampling/custom_sampling/samplers',
    pythonModule: 'comfy_extras.nodes_custom_sampler',
  },
  BasicScheduler: {
    required: {
      model: ['MODEL'],
      scheduler: [SCHEDULER_NAMES],
      steps: ['INT', { default: 20, min: 1, max: 10000 }],
      denoise: ['FLOAT', { default: 1.0, min: 0.0, max: 1.0, step: 0.01 }],
    },
    output: ['SIGMAS'],
    category: 'sampling/custom_sampling/schedulers',
    pythonModule: 'comfy_extras.nodes_custom_sampler',
  },
  SamplerCustomAdvanced: {
    required: {
      noise: ['NOISE'],
      guider: ['GUIDER'],
      sampler: ['SAMPLER'],
      sigmas: ['SIGMAS'],
      latent_image: ['LATENT'],
    },
    output: ['LATENT', 'LATENT'],
    outputName: ['output', 'denoised_output'],
    category: 'sampling/custom_sampling',
    pythonModule: 'comfy_extras.nodes_custom_sampler',
  },
}
