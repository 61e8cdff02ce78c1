/**
 * Infers a manifest from the folder layout Hugging Face Optimum writes for Stable Diffusion
 * (`model_index.json`, `scheduler/scheduler_config.json`, `text_encoder/`, `unet/`, `vae_decoder/`,
 * `tokenizer/`), so such exports load with no `pigment.json`.
 * @module
 */
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { errors } from '../core/errors.js'
import { FAMILY_DEFAULTS, type ModelManifest } from './manifest.js'

/** Pipeline classes with a layout Pigment can infer. SDXL, SD3 and Flux need a pigment.json (or are not supported). */
const SD_CLASSES =
  /^(ORT|Onnx)?StableDiffusion(Img2Img|Inpaint)?Pipeline$|^(ORT)?LatentConsistencyModelPipeline$/

async function readJsonFile(file: string): Promise<Record<string, unknown>> {
  try {
    const value: unknown = JSON.parse(await readFile(file, 'utf8'))
    if (typeof value !== 'object' || value === null) throw new Error('not a JSON object')
    return value as Record<string, unknown>
  } catch (cause) {
    throw errors.MODEL_INVALID(`cannot read ${file}: ${(cause as Error).message}`, {
      details: { file },
      cause,
    })
  }
}

async function readOptionalJson(file: string): Promise<Record<string, unknown> | undefined> {
  return existsSync(file) ? readJsonFile(file) : undefined
}

function schedulerSampling(config: Record<string, unknown> | undefined, file: string) {
  const base = FAMILY_DEFAULTS.sd
  if (!config) return { sampling: base.sampling, prediction: base.prediction }
  const bad = (field: string, why: string) =>
    errors.MODEL_INVALID(`${file}: "${field}" ${why}; write a pigment.json to run this model`, {
      field,
      details: { file },
    })
  const schedule = config.beta_schedule ?? 'scaled_linear'
  if (schedule !== 'scaled_linear' && schedule !== 'linear') {
    throw bad(
      'beta_schedule',
      `is ${JSON.stringify(schedule)}; Pigment supports "scaled_linear" and "linear"`,
    )
  }
  const predictionType = config.prediction_type ?? 'epsilon'
  if (predictionType !== 'epsilon' && predictionType !== 'v_prediction') {
    throw bad(
      'prediction_type',
      `is ${JSON.stringify(predictionType)}; Pigment supports "epsilon" and "v_prediction"`,
    )
  }
  const numberOr = (value: unknown, fallback: number) => (typeof value === 'number' ? value : fallback)
  return {
    prediction: predictionType === 'epsilon' ? ('eps' as const) : ('v' as const),
    sampling: {
      ...base.sampling,
      betaStart: numberOr(config.beta_start, base.sampling.betaStart),
      betaEnd: numberOr(config.beta_end, base.sampling.betaEnd),
      betaSchedule: schedule as 'scaled_linear' | 'linear',
    },
  }
}

/** Builds the manifest of an Optimum Stable Diffusion export. */
export async function inferOptimumManifest(dir: string): Promise<ModelManifest> {
  const indexFile = join(dir, 'model_index.json')
  const index = await readJsonFile(indexFile)
  const className = index._class_name
  if (typeof className !== 'string' || !SD_CLASSES.test(className)) {
    throw errors.MODEL_INVALID(
      `${indexFile}: pipeline class ${JSON.stringify(className)} cannot be inferred; ` +
        'Pigment infers Stable Diffusion 1.x/2.x exports. Write a pigment.json (see docs/model-format.md).',
      { field: '_class_name', details: { file: indexFile } },
    )
  }
  const schedulerFile = join(dir, 'scheduler', 'scheduler_config.json')
  const { sampling, prediction } = schedulerSampling(await readOptionalJson(schedulerFile), schedulerFile)
  const base = FAMILY_DEFAULTS.sd
  // Optimum copies each component's diffusers config beside its model.onnx; use them when present.
  const unetConfig = await readOptionalJson(join(dir, 'unet', 'config.json'))
  const vaeConfig = await readOptionalJson(join(dir, 'vae_decoder', 'config.json'))
  const channels = typeof unetConfig?.in_channels === 'number' ? unetConfig.in_channels : base.latent.channels
  const scalingFactor =
    typeof vaeConfig?.scaling_factor === 'number' ? vaeConfig.scaling_factor : base.latent.scalingFactor
  const sampleSize = typeof unetConfig?.sample_size === 'number' ? unetConfig.sample_size * 8 : undefined
  const size = sampleSize && sampleSize >= 256 && sampleSize <= 1024 ? sampleSize : base.defaults.width
  return {
    ...base,
    name: basename(dir),
    prediction,
    sampling,
    latent: { ...base.latent, channels, scalingFactor },
    defaults: { ...base.defaults, width: size, height: size },
  }
}
