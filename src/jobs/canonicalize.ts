/**
 * GenerationInput (what a dialect understood) + the model's manifest defaults + the server's limits →
 * a fully resolved GenerationRequest. This is the third error gate: values that are valid JSON but out of
 * range for this model or this server are rejected with REQUEST_INVALID_PARAM naming the field, never
 * silently clamped. Every dialect calls it, so a limit is enforced in one place.
 * @module
 */
import { randomInt } from 'node:crypto'
import { errors } from '../core/errors.js'
import type {
  GenerationInput,
  GenerationRequest,
  OutputFormat,
  RequestOrigin,
} from '../core/generation-request.js'
import { type OutOfRangePolicy, requestableSizes } from '../core/size-policy.js'

/** The part of a model's manifest (`pigment.json` `defaults` / `limits`) that canonicalization reads. */
export interface ModelProfile {
  readonly name: string
  readonly defaults?: {
    readonly steps?: number
    readonly cfg?: number
    readonly sampler?: string
    readonly scheduler?: string
    readonly width?: number
    readonly height?: number
    readonly negativePrompt?: string
  }
  readonly limits?: {
    readonly minSize?: number
    readonly maxSize?: number
    readonly sizeMultiple?: number
    readonly maxSteps?: number
    readonly minCfg?: number
    readonly maxCfg?: number
    readonly outOfRange?: OutOfRangePolicy
  }
}

/** Server-wide caps (the `limits` section of the config). */
export interface ServerLimits {
  readonly maxPixels: number
  readonly maxSteps: number
  readonly maxImages: number
}

export interface CanonicalizeContext {
  readonly model: ModelProfile
  readonly limits: ServerLimits
  readonly origin: RequestOrigin
  readonly priority?: number
  readonly allowDownscaleOnOom?: boolean
  /** Canonical sampler name for any accepted spelling; throws (any error) for unknown names. */
  readonly resolveSampler: (name: string) => string
  /** Canonical scheduler name; throws for unknown names. */
  readonly resolveScheduler: (name: string) => string
  /** Injectable for tests; default: a uniform 32-bit seed. */
  readonly randomSeed?: () => number
}

/** Fallbacks when a manifest leaves a default out (a small, fast, widely valid setting). */
const FALLBACK = { steps: 20, cfg: 4, sampler: 'euler', scheduler: 'simple', size: 512, quality: 90 } as const
const FALLBACK_LIMITS = { minSize: 64, maxSize: 4096, sizeMultiple: 8, minCfg: 0, maxCfg: 100 } as const

export function canonicalize(input: GenerationInput, context: CanonicalizeContext): GenerationRequest {
  const { model, limits } = context
  const defaults = model.defaults ?? {}
  const modelLimits = { ...FALLBACK_LIMITS, ...model.limits }

  if (input.prompt.trim() === '') throw invalid('prompt', 'must not be empty')
  const width = input.width ?? defaults.width ?? FALLBACK.size
  const height = input.height ?? defaults.height ?? FALLBACK.size
  const sizes = requestableSizes(modelLimits)
  checkSize('width', width, sizes, model.name)
  checkSize('height', height, sizes, model.name)
  if (width * height > limits.maxPixels) {
    throw invalid(
      'width',
      `${width}×${height} is more than this server's ${limits.maxPixels} pixels per image`,
    )
  }

  const steps = input.steps ?? defaults.steps ?? FALLBACK.steps
  const maxSteps = Math.min(limits.maxSteps, modelLimits.maxSteps ?? Number.POSITIVE_INFINITY)
  checkRange('steps', steps, 1, maxSteps, model.name)
  const cfg = input.cfg ?? defaults.cfg ?? FALLBACK.cfg
  checkRange('cfg', cfg, modelLimits.minCfg, modelLimits.maxCfg, model.name)
  const n = input.n ?? 1
  checkRange('n', n, 1, limits.maxImages, model.name)

  const sampler = resolveName(
    'sampler',
    input.sampler ?? defaults.sampler ?? FALLBACK.sampler,
    context.resolveSampler,
  )
  const scheduler = resolveName(
    'scheduler',
    input.scheduler ?? defaults.scheduler ?? FALLBACK.scheduler,
    context.resolveScheduler,
  )
  const seedWasRandom = input.seed === undefined
  const seed = input.seed ?? (context.randomSeed ?? (() => randomInt(0, 2 ** 32)))()
  if (!Number.isSafeInteger(seed) || seed < 0)
    throw invalid('seed', `must be a non-negative integer, got ${seed}`)

  const format: OutputFormat = input.output?.format ?? 'png'
  const quality = input.output?.quality ?? FALLBACK.quality
  checkRange('quality', quality, 1, 100, model.name)

  return {
    prompt: input.prompt,
    negativePrompt: input.negativePrompt ?? defaults.negativePrompt ?? '',
    model: model.name,
    width,
    height,
    steps,
    cfg,
    sampler,
    scheduler,
    seed,
    n,
    output: { format, quality },
    origin: context.origin,
    priority: context.priority ?? 0,
    seedWasRandom,
    allowDownscaleOnOom: context.allowDownscaleOnOom ?? false,
  }
}

function invalid(field: string, message: string) {
  return errors.REQUEST_INVALID_PARAM(`${field}: ${message}`, { field })
}

function checkSize(
  field: 'width' | 'height',
  value: number,
  limits: { readonly minSize: number; readonly maxSize: number; readonly sizeMultiple: number },
  model: string,
): void {
  if (!Number.isInteger(value)) throw invalid(field, `must be an integer, got ${value}`)
  if (value < limits.minSize || value > limits.maxSize) {
    throw invalid(
      field,
      `must be between ${limits.minSize} and ${limits.maxSize} for model ${model}, got ${value}`,
    )
  }
  if (value % limits.sizeMultiple !== 0) {
    throw invalid(field, `must be a multiple of ${limits.sizeMultiple} for model ${model}, got ${value}`)
  }
}

function checkRange(field: string, value: number, min: number, max: number, model: string): void {
  if (!Number.isFinite(value) || value < min || value > max) {
    throw invalid(field, `must be between ${min} and ${max} (model ${model} on this server), got ${value}`)
  }
}

function resolveName(field: string, name: string, resolve: (name: string) => string): string {
  try {
    return resolve(name)
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : `unknown ${field} "${name}"`
    throw errors.REQUEST_INVALID_PARAM(`${field}: ${reason}`, { field, cause })
  }
}
