/**
 * `pigment.json`: what a model folder holds and how to run it (docs/model-format.md). Every field except
 * `family` has a family default, so a manifest only states what differs; `parseManifest` checks types and ranges
 * and names the file and the field on the first bad value.
 * @module
 */

import { errors } from '../core/errors.js'
import type { OutOfRangePolicy } from '../core/size-policy.js'
import type { Prediction } from '../engine/index.js'
import type { TextPadding } from './text/prompt-tokenizer.js'

export type ModelFamily = 'sd' | 'flow'

export interface ModelManifest {
  readonly name: string
  readonly family: ModelFamily
  readonly prediction: Prediction
  /**
   * sd: the VP β schedule; flow: the time shift (SD3-style `shift`, 1 = none) and the distilled guidance fed to
   * a transformer that has a `guidance` input (FLUX dev; ignored otherwise).
   */
  readonly sampling: {
    readonly betaStart: number
    readonly betaEnd: number
    readonly betaSchedule: 'scaled_linear' | 'linear'
    readonly shift: number
    readonly guidance: number
  }
  /**
   * Paths relative to the folder. flow: `clipTokenizer` + `clipTextEncoder` (CLIP-L) feed a transformer that
   * takes `pooled_projections` (FLUX); Chroma has none.
   */
  readonly components: {
    readonly tokenizer: string
    readonly textEncoder: string
    readonly denoiser: string
    readonly vaeDecoder: string
    readonly clipTokenizer?: string
    readonly clipTextEncoder?: string
  }
  readonly latent: {
    readonly channels: number
    readonly downscale: number
    readonly scalingFactor: number
    readonly shiftFactor: number
  }
  readonly text: { readonly maxLength: number; readonly padding: TextPadding }
  readonly defaults: {
    readonly steps: number
    readonly cfg: number
    readonly sampler: string
    readonly scheduler: string
    readonly width: number
    readonly height: number
    readonly negativePrompt: string
  }
  readonly limits: {
    readonly minSize: number
    readonly maxSize: number
    readonly sizeMultiple: number
    readonly maxSteps: number
    readonly minCfg: number
    readonly maxCfg: number
    /** A requested size outside minSize..maxSize (or off the multiple): 400, or generate native and resize. */
    readonly outOfRange: OutOfRangePolicy
  }
  readonly license?: string
}

type Section = 'sampling' | 'components' | 'latent' | 'text' | 'defaults' | 'limits'

/**
 * Family defaults. sd: 20 steps, CFG 7, `euler` + `normal` (ComfyUI's `normal` is diffusers' "linspace" spacing,
 * what SD 1.x/2.x model cards were tuned with). flow: the official ComfyUI Chroma template (engine-spec §5):
 * 26 steps, CFG 3.5, `euler` + `beta`, shift 1.
 */
export const FAMILY_DEFAULTS: Readonly<Record<ModelFamily, Omit<ModelManifest, 'name'>>> = {
  sd: {
    family: 'sd',
    prediction: 'eps',
    sampling: { betaStart: 0.00085, betaEnd: 0.012, betaSchedule: 'scaled_linear', shift: 1, guidance: 3.5 },
    components: {
      tokenizer: 'tokenizer',
      textEncoder: 'text_encoder/model.onnx',
      denoiser: 'unet/model.onnx',
      vaeDecoder: 'vae_decoder/model.onnx',
    },
    latent: { channels: 4, downscale: 8, scalingFactor: 0.18215, shiftFactor: 0 },
    text: { maxLength: 77, padding: 'max_length' },
    defaults: {
      steps: 20,
      cfg: 7,
      sampler: 'euler',
      scheduler: 'normal',
      width: 512,
      height: 512,
      negativePrompt: '',
    },
    limits: {
      minSize: 64,
      maxSize: 2048,
      sizeMultiple: 8,
      maxSteps: 150,
      minCfg: 0,
      maxCfg: 30,
      outOfRange: 'reject',
    },
  },
  flow: {
    family: 'flow',
    prediction: 'flow',
    sampling: { betaStart: 0.00085, betaEnd: 0.012, betaSchedule: 'scaled_linear', shift: 1, guidance: 3.5 },
    components: {
      tokenizer: 'tokenizer',
      textEncoder: 'text_encoder/model.onnx',
      denoiser: 'transformer/model.onnx',
      vaeDecoder: 'vae_decoder/model.onnx',
    },
    latent: { channels: 16, downscale: 8, scalingFactor: 0.3611, shiftFactor: 0.1159 },
    text: { maxLength: 512, padding: 'tokens+eos+1pad' },
    defaults: {
      steps: 26,
      cfg: 3.5,
      sampler: 'euler',
      scheduler: 'beta',
      width: 1024,
      height: 1024,
      negativePrompt: '',
    },
    limits: {
      minSize: 64,
      maxSize: 2048,
      sizeMultiple: 16,
      maxSteps: 150,
      minCfg: 0,
      maxCfg: 30,
      outOfRange: 'reject',
    },
  },
}

type Check = (value: unknown) => string | undefined

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)
const string: Check = (v) => (typeof v === 'string' ? undefined : 'must be a string')
const nonEmpty: Check = (v) =>
  typeof v === 'string' && v.length > 0 ? undefined : 'must be a non-empty string'
const number: Check = (v) => (typeof v === 'number' && Number.isFinite(v) ? undefined : 'must be a number')
const positive: Check = (v) =>
  typeof v === 'number' && v > 0 && Number.isFinite(v) ? undefined : 'must be > 0'
const count: Check = (v) => (Number.isInteger(v) && (v as number) >= 1 ? undefined : 'must be an integer ≥ 1')
const oneOf =
  (...options: string[]): Check =>
  (v) =>
    options.includes(v as string) ? undefined : `must be one of ${options.map((o) => `"${o}"`).join(', ')}`

const FIELD_CHECKS: Readonly<Record<Section, Readonly<Record<string, Check>>>> = {
  sampling: {
    betaStart: positive,
    betaEnd: positive,
    betaSchedule: oneOf('scaled_linear', 'linear'),
    shift: positive,
    guidance: number,
  },
  components: {
    tokenizer: nonEmpty,
    textEncoder: nonEmpty,
    denoiser: nonEmpty,
    vaeDecoder: nonEmpty,
    clipTokenizer: nonEmpty,
    clipTextEncoder: nonEmpty,
  },
  latent: { channels: count, downscale: count, scalingFactor: positive, shiftFactor: number },
  text: { maxLength: count, padding: oneOf('max_length', 'tokens+eos+1pad') },
  defaults: {
    steps: count,
    cfg: number,
    sampler: nonEmpty,
    scheduler: nonEmpty,
    width: count,
    height: count,
    negativePrompt: string,
  },
  limits: {
    minSize: count,
    maxSize: count,
    sizeMultiple: count,
    maxSteps: count,
    minCfg: number,
    maxCfg: number,
    outOfRange: oneOf('reject', 'resize'),
  },
}

function invalid(file: string, field: string, why: string): Error {
  return errors.MODEL_INVALID(`${file}: "${field}" ${why}`, { field, details: { file } })
}

function section<S extends Section>(
  raw: Record<string, unknown>,
  name: S,
  base: ModelManifest[S],
  file: string,
): ModelManifest[S] {
  const given = raw[name]
  if (given === undefined) return base
  if (!isObject(given)) throw invalid(file, name, 'must be an object')
  const checks = FIELD_CHECKS[name]
  for (const [key, value] of Object.entries(given)) {
    const check = checks[key]
    if (!check)
      throw invalid(file, `${name}.${key}`, `is not a known field (known: ${Object.keys(checks).join(', ')})`)
    const why = check(value)
    if (why) throw invalid(file, `${name}.${key}`, `${why} (got ${JSON.stringify(value)})`)
  }
  return { ...base, ...given } as ModelManifest[S]
}

/**
 * Validates a parsed `pigment.json` and fills what it leaves out from `inferred` (what the folder's layout says,
 * for an Optimum export of the same family) or else the family defaults. `fallbackName` is used when `name` is
 * absent.
 */
export function parseManifest(
  raw: unknown,
  file: string,
  fallbackName: string,
  inferred?: ModelManifest,
): ModelManifest {
  if (!isObject(raw)) throw invalid(file, '(root)', 'must be a JSON object')
  const family = raw.family
  if (family !== 'sd' && family !== 'flow') {
    throw invalid(file, 'family', `must be "sd" or "flow" (got ${JSON.stringify(family)})`)
  }
  const known = new Set(['name', 'family', 'prediction', 'license', ...Object.keys(FIELD_CHECKS)])
  for (const key of Object.keys(raw)) if (!known.has(key)) throw invalid(file, key, 'is not a known field')
  if (raw.name !== undefined && nonEmpty(raw.name)) throw invalid(file, 'name', 'must be a non-empty string')
  if (raw.license !== undefined && string(raw.license)) throw invalid(file, 'license', 'must be a string')
  const base = inferred?.family === family ? inferred : FAMILY_DEFAULTS[family]
  const prediction = raw.prediction ?? base.prediction
  const allowed = family === 'sd' ? ['eps', 'v'] : ['flow']
  if (!allowed.includes(prediction as string)) {
    throw invalid(
      file,
      'prediction',
      `must be ${allowed.map((a) => `"${a}"`).join(' or ')} for family ${family}`,
    )
  }
  const manifest: ModelManifest = {
    name: (raw.name as string | undefined) ?? fallbackName,
    family,
    prediction: prediction as Prediction,
    sampling: section(raw, 'sampling', base.sampling, file),
    components: section(raw, 'components', base.components, file),
    latent: section(raw, 'latent', base.latent, file),
    text: section(raw, 'text', base.text, file),
    defaults: section(raw, 'defaults', base.defaults, file),
    limits: section(raw, 'limits', base.limits, file),
    ...(typeof raw.license === 'string' ? { license: raw.license } : {}),
  }
  checkConsistency(manifest, file)
  return manifest
}

function checkConsistency(m: ModelManifest, file: string): void {
  const { limits, defaults } = m
  if ((m.components.clipTokenizer === undefined) !== (m.components.clipTextEncoder === undefined)) {
    throw invalid(file, 'components.clipTextEncoder', 'and components.clipTokenizer go together')
  }
  const floor = FAMILY_DEFAULTS[m.family].limits.sizeMultiple
  if (limits.sizeMultiple % floor !== 0) {
    throw invalid(file, 'limits.sizeMultiple', `must be a multiple of ${floor} for family ${m.family}`)
  }
  if (limits.minSize > limits.maxSize) throw invalid(file, 'limits.minSize', 'must not exceed limits.maxSize')
  if (limits.minCfg > limits.maxCfg) throw invalid(file, 'limits.minCfg', 'must not exceed limits.maxCfg')
  if (m.sampling.betaStart > m.sampling.betaEnd) {
    throw invalid(file, 'sampling.betaStart', 'must not exceed sampling.betaEnd')
  }
  for (const key of ['width', 'height'] as const) {
    const size = defaults[key]
    if (size % limits.sizeMultiple !== 0 || size < limits.minSize || size > limits.maxSize) {
      throw invalid(
        file,
        `defaults.${key}`,
        `must be a multiple of ${limits.sizeMultiple} within the size limits`,
      )
    }
  }
  if (defaults.steps > limits.maxSteps) throw invalid(file, 'defaults.steps', 'exceeds limits.maxSteps')
  if (defaults.cfg < limits.minCfg || defaults.cfg > limits.maxCfg) {
    throw invalid(file, 'defaults.cfg', 'is outside limits.minCfg..limits.maxCfg')
  }
}
