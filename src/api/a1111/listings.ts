/**
 * The read-only lists A1111 clients fetch to fill their menus: models, samplers, schedulers, and the
 * upscalers, latent upscale modes and VAEs Pigment has none of (empty lists). Pure.
 * @module
 */
import { SAMPLER_NAMES } from '../../engine/sampler-names.js'
import { samplerDisplayName } from '../../pipelines/encode/a1111-names.js'
import type { ModelSummary } from '../shared/deps.js'
import { A1111_SCHEDULERS } from './translate.js'

/** A1111 titles its checkpoints `file [hash]`; Pigment's models have a name and no file hash. */
export function toSdModels(models: readonly ModelSummary[]) {
  return models.map((model) => ({
    title: model.name,
    model_name: model.name,
    hash: null,
    sha256: null,
    filename: model.name,
    config: null,
  }))
}

/** Every sampler Pigment runs, under A1111's display name where it has one, with its other spellings. */
export function toSamplers() {
  return SAMPLER_NAMES.map((canonical) => {
    const name = samplerDisplayName(canonical)
    return { name, aliases: name === canonical ? [] : [canonical], options: {} }
  })
}

/** A1111 ≥ 1.9's scheduler list (`modules/sd_schedulers.py`) as far as Pigment has them. */
export function toSchedulers() {
  return A1111_SCHEDULERS.map(({ name, label }) => ({
    name,
    label,
    aliases: null,
    default_rho: name === 'karras' ? 7 : -1,
    need_inner_model: name === 'uniform' || name === 'sgm_uniform',
  }))
}

/**
 * A1111's settings as a client reads them. Open WebUI posts the whole object back with a new
 * `sd_model_checkpoint`, so only settings Pigment can stand behind are listed.
 */
export function toOptions(checkpoint: string | null) {
  return {
    sd_model_checkpoint: checkpoint,
    sd_checkpoint_hash: null,
    sd_vae: 'Automatic',
    CLIP_stop_at_last_layers: 1,
    samples_format: 'png',
    eta_noise_seed_delta: 0,
    sd_checkpoints_limit: 1,
    enable_pnginfo: true,
  }
}
