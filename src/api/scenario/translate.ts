/**
 * Pure translation between Scenario's API (seed `004_…`) and Pigment's canonical types: a txt2img body →
 * `GenerationInput`; a `Job`, an `Asset` or a model summary → Scenario's job, asset and model objects. No
 * Fastify, no I/O. Listing queries are in `queries.ts`, the error envelope in `errors.ts`.
 *
 * Scenario-only settings that Pigment's layers below the API do not use (hideResults, intermediateImages,
 * the aspect ratio and the scheduler's class name as asked) ride along on `origin.scenario`, so a job read
 * back later answers with what was asked. Only this dialect reads them.
 * @module
 */
import { errors } from '../../core/errors.js'
import type { GenerationInput, RequestOrigin } from '../../core/generation-request.js'
import type { Asset, Job } from '../../core/job.js'
import { requestableSizes } from '../../core/size-policy.js'
import { type CostedSettings, costCredits, type ModelFactors } from '../../credits/cost.js'
import { diffusersScheduler } from '../../engine/sampler-names.js'
import type { ModelProfile, ServerLimits } from '../../jobs/canonicalize.js'
import type { ModelSummary } from '../shared/deps.js'
import {
  type AspectRatio,
  type DryRunResponse,
  SCENARIO_SCHEDULERS,
  type ScenarioAsset,
  type ScenarioInference,
  type ScenarioJob,
  type ScenarioJobStatus,
  type ScenarioModel,
  type ScenarioModelType,
  type ScenarioScheduler,
  type Txt2imgBody,
} from './schema.js'

/** Scenario's documented defaults for what it does not leave to the model. */
export const SCENARIO_DEFAULTS = Object.freeze({
  numSamples: 4,
  numInferenceSteps: 30,
  width: 512,
  height: 512,
})

/** What Scenario asked that the canonical request has no field for. */
export interface ScenarioExtras {
  readonly hideResults: boolean
  readonly intermediateImages: boolean
  readonly aspectRatio?: AspectRatio
  readonly scheduler?: ScenarioScheduler
}

export interface ScenarioOrigin extends RequestOrigin {
  readonly scenario?: ScenarioExtras
}

export interface Txt2imgTranslation {
  readonly input: GenerationInput
  readonly origin: ScenarioOrigin
}

/** The model and server bounds the Scenario defaults are fitted into (a default never fails validation). */
export interface TranslateContext {
  readonly model: ModelProfile
  readonly limits: ServerLimits
  readonly keyId: string | null
}

/** A txt2img body (already shape-checked) → canonical input; settings Pigment cannot honour are 400s. */
export function toGenerationInput(body: Txt2imgBody, context: TranslateContext): Txt2imgTranslation {
  if (body.concepts !== undefined && body.concepts.length > 0) {
    throw unsupported('concepts', 'LoRA concepts are not supported by this server')
  }
  if (body.modelEpoch !== undefined && body.modelEpoch !== '') {
    throw unsupported('modelEpoch', 'model epochs exist only for Scenario-trained Flux LoRAs')
  }
  if (body.baseModelId !== undefined && body.baseModelId !== '') {
    throw unsupported('baseModelId', 'a base model applies only to Flux LoRA models')
  }
  const { model, limits } = context
  const size = resolveSize(body, model)
  const maxSteps = Math.min(limits.maxSteps, model.limits?.maxSteps ?? Number.POSITIVE_INFINITY)
  const sampling = body.scheduler === undefined ? undefined : diffusersScheduler(body.scheduler)
  const input: GenerationInput = {
    prompt: body.prompt,
    model: model.name,
    ...(body.negativePrompt === undefined ? {} : { negativePrompt: body.negativePrompt }),
    width: size.width,
    height: size.height,
    steps: body.numInferenceSteps ?? Math.min(SCENARIO_DEFAULTS.numInferenceSteps, maxSteps),
    n: body.numSamples ?? Math.min(SCENARIO_DEFAULTS.numSamples, limits.maxImages),
    ...(body.guidance === undefined ? {} : { cfg: body.guidance }),
    ...(sampling === undefined ? {} : { sampler: sampling.sampler, scheduler: sampling.scheduler }),
    ...(body.seed === undefined ? {} : { seed: parseSeed(body.seed) }),
    output: { format: 'png' },
  }
  const scenario: ScenarioExtras = {
    hideResults: body.hideResults ?? false,
    intermediateImages: body.intermediateImages ?? false,
    ...(body.aspectRatio === undefined ? {} : { aspectRatio: body.aspectRatio }),
    ...(body.scheduler === undefined ? {} : { scheduler: body.scheduler }),
  }
  return { input, origin: { keyId: context.keyId, source: 'scenario', scenario } }
}

function unsupported(field: string, reason: string) {
  return errors.DIALECT_UNSUPPORTED_PARAM(`${field}: ${reason}`, { field })
}

function parseSeed(seed: string | number): number {
  const value = typeof seed === 'number' ? seed : Number(seed)
  if (!Number.isSafeInteger(value) || value < 0) {
    throw errors.REQUEST_INVALID_PARAM(`seed: must be a non-negative integer, got ${JSON.stringify(seed)}`, {
      field: 'seed',
    })
  }
  return value
}

/**
 * width/height win; one of them with an aspect ratio gives the other; an aspect ratio alone keeps the pixel
 * count of Scenario's default 512×512. A derived size is scaled down to fit the sizes the model takes (its
 * native limits, or any size when it resizes; keeping the ratio) and rounded to its size multiple.
 */
export function resolveSize(
  body: Pick<Txt2imgBody, 'width' | 'height' | 'aspectRatio'>,
  model: ModelProfile,
): { width: number; height: number } {
  const sizes = requestableSizes({ minSize: 64, maxSize: 2048, sizeMultiple: 8, ...model.limits })
  const multiple = sizes.sizeMultiple
  const min = Math.max(64, sizes.minSize)
  const max = Math.min(2048, sizes.maxSize)
  const snap = (value: number) => Math.min(max, Math.max(min, Math.round(value / multiple) * multiple))
  if (body.aspectRatio === undefined || (body.width !== undefined && body.height !== undefined)) {
    return {
      width: body.width ?? snap(SCENARIO_DEFAULTS.width),
      height: body.height ?? snap(SCENARIO_DEFAULTS.height),
    }
  }
  const [w, h] = body.aspectRatio.split(':').map(Number) as [number, number]
  if (body.width !== undefined) return { width: body.width, height: snap((body.width * h) / w) }
  if (body.height !== undefined) return { width: snap((body.height * w) / h), height: body.height }
  const pixels = SCENARIO_DEFAULTS.width * SCENARIO_DEFAULTS.height
  const width = Math.sqrt((pixels * w) / h)
  const height = Math.sqrt((pixels * h) / w)
  const scale = Math.min(1, max / width, max / height)
  return { width: snap(width * scale), height: snap(height * scale) }
}

/** Creative units are Pigment's credits: the server-wide cost function (`credits/cost.ts`) prices both. */
export function creativeUnits(settings: CostedSettings, factors?: ModelFactors): number {
  return costCredits(settings, factors)
}

export function dryRunBody(settings: CostedSettings, factors?: ModelFactors): DryRunResponse {
  return { creativeUnitsCost: creativeUnits(settings, factors), creativeUnitsDiscount: 0 }
}

// ── Pigment → Scenario ──────────────────────────────────────────────────────────────────────────────────

export function extrasOf(job: Pick<Job, 'request'>): ScenarioExtras {
  const extras = (job.request.origin as ScenarioOrigin).scenario
  return extras ?? { hideResults: false, intermediateImages: false }
}

export function isHidden(job: Pick<Job, 'request'>): boolean {
  return extrasOf(job).hideResults
}

/** The owner of a record as Scenario's author id; auth-off records belong to `anonymous`. */
export const ANONYMOUS_AUTHOR = 'anonymous'

export function authorIdOf(ownerKeyId: string | null): string {
  return ownerKeyId ?? ANONYMOUS_AUTHOR
}

/** Scenario's scheduler class for a job: as asked, or the one that maps to its sampler and schedule. */
function schedulerOf(job: Job): ScenarioScheduler | undefined {
  const asked = extrasOf(job).scheduler
  if (asked !== undefined) return asked
  const { sampler, scheduler } = job.request
  return SCENARIO_SCHEDULERS.find((name) => {
    const mapping = diffusersScheduler(name)
    return mapping.sampler === sampler && mapping.scheduler === scheduler
  })
}

export function toInference(job: Job): ScenarioInference {
  const request = job.request
  const extras = extrasOf(job)
  const scheduler = schedulerOf(job)
  return {
    type: 'txt2img',
    prompt: request.prompt,
    ...(request.negativePrompt === '' ? {} : { negativePrompt: request.negativePrompt }),
    seed: String(request.seed),
    numSamples: request.n,
    numInferenceSteps: request.steps,
    guidance: request.cfg,
    width: request.width,
    height: request.height,
    ...(extras.aspectRatio === undefined ? {} : { aspectRatio: extras.aspectRatio }),
    ...(scheduler === undefined ? {} : { scheduler }),
    hideResults: extras.hideResults,
    intermediateImages: extras.intermediateImages,
  }
}

/** Pigment's job state (and, while running, its progress) as Scenario's status. */
export function scenarioStatus(
  job: Pick<Job, 'state' | 'progress' | 'error' | 'assetIds'>,
): ScenarioJobStatus {
  switch (job.state) {
    case 'queued':
      return 'queued'
    case 'running': {
      const progress = job.progress
      if (progress === null) return 'warming-up'
      const lastImage = progress.image >= progress.images - 1
      return lastImage && progress.step >= progress.steps ? 'finalizing' : 'in-progress'
    }
    case 'succeeded':
      return 'success'
    case 'failed':
      return 'failure'
    case 'canceled':
      return 'canceled'
    case 'expired':
      // the record outlived its images; report how it had ended
      if (job.error !== null) return 'failure'
      return job.assetIds.length > 0 ? 'success' : 'canceled'
  }
}

/** Fraction done, 0–1: images finished plus the current image's steps. */
export function progressOf(job: Pick<Job, 'state' | 'progress' | 'error' | 'assetIds'>): number {
  if (scenarioStatus(job) === 'success') return 1
  const progress = job.progress
  if (progress === null || progress.images === 0 || progress.steps === 0) return 0
  const done = (progress.image + progress.step / progress.steps) / progress.images
  return Math.min(1, Math.max(0, Math.round(done * 1000) / 1000))
}

function statusHistory(job: Job, status: ScenarioJobStatus): ScenarioJob['statusHistory'] {
  const history: { date: string; status: ScenarioJobStatus }[] = [
    { date: job.createdAt.toISOString(), status: 'queued' },
  ]
  if (job.startedAt !== null) history.push({ date: job.startedAt.toISOString(), status: 'in-progress' })
  if (job.finishedAt !== null && (status === 'success' || status === 'failure' || status === 'canceled')) {
    history.push({ date: job.finishedAt.toISOString(), status })
  }
  return history
}

/** `factors`: the configured per-model cost factors (`credits.modelFactors`). */
export function toScenarioJob(job: Job, factors?: ModelFactors): ScenarioJob {
  const status = scenarioStatus(job)
  const author = authorIdOf(job.ownerKeyId)
  const updated = job.finishedAt ?? job.startedAt ?? job.createdAt
  return {
    jobId: job.id,
    jobType: 'inference',
    status,
    progress: progressOf(job),
    createdAt: job.createdAt.toISOString(),
    updatedAt: updated.toISOString(),
    authorId: author,
    ownerId: author,
    // what was charged: refunded once the job failed or was canceled
    billing: {
      cuCost: status === 'failure' || status === 'canceled' ? 0 : creativeUnits(job.request, factors),
      cuDiscount: 0,
    },
    statusHistory: statusHistory(job, status),
    metadata: {
      input: { modelId: job.request.model, ...toInference(job) },
      ...(job.error === null ? {} : { output: { error: job.error.message, code: job.error.code } }),
      assetIds: [...job.assetIds],
    },
  }
}

const MIME_TYPES = { png: 'image/png', jpeg: 'image/jpeg', webp: 'image/webp' } as const

/** Include a value only where Scenario's asset metadata schema allows it (its bounds are Scenario's own). */
function within(value: number, min: number, max: number): number | undefined {
  return value >= min && value <= max ? value : undefined
}

/** An asset (and, when still on record, the job that made it) → Scenario's asset object. */
export function toScenarioAsset(asset: Asset, job: Job | null, url: string): ScenarioAsset {
  const request = job?.request
  const scheduler = job === null ? undefined : schedulerOf(job)
  const steps = request === undefined ? undefined : within(request.steps, 5, 50)
  const width = within(asset.width, 1024, 2048)
  const height = within(asset.height, 1024, 2048)
  const author = authorIdOf(asset.ownerKeyId)
  return {
    id: asset.id,
    url,
    mimeType: MIME_TYPES[asset.format],
    kind: 'image',
    source: 'inference-txt',
    status: 'success',
    privacy: 'private',
    authorId: author,
    ownerId: author,
    createdAt: asset.createdAt.toISOString(),
    updatedAt: asset.createdAt.toISOString(),
    tags: [],
    collectionIds: [],
    editCapabilities: [],
    isHidden: job === null ? false : isHidden(job),
    outputIndex: asset.index,
    properties: { size: asset.bytes, width: asset.width, height: asset.height },
    metadata: {
      kind: 'image',
      type: 'inference-txt2img',
      modelId: asset.model,
      inferenceId: asset.jobId,
      parentJobId: asset.jobId,
      outputIndex: asset.index,
      seed: String(asset.seed),
      ...(request === undefined ? {} : { prompt: request.prompt, guidance: request.cfg }),
      ...(request === undefined || request.negativePrompt === ''
        ? {}
        : { negativePrompt: request.negativePrompt }),
      ...(scheduler === undefined ? {} : { scheduler }),
      ...(steps === undefined ? {} : { numInferenceSteps: steps }),
      ...(width === undefined ? {} : { width }),
      ...(height === undefined ? {} : { height }),
    },
  }
}

/** Pigment's model family as Scenario's model type; an SD model with a default of 1024 or more is SDXL. */
export function modelTypeOf(model: Pick<ModelSummary, 'family' | 'defaults'>): ScenarioModelType {
  if (model.family === 'flow') return 'flux.1'
  const width = model.defaults.width
  return typeof width === 'number' && width >= 1024 ? 'sd-xl' : 'sd-1_5'
}

function describeModel(model: ModelSummary): string {
  const parts = [`Pigment ${model.family} model`]
  if (model.isDefault) parts.push('the default model')
  if (model.aliases.length > 0) parts.push(`aliases: ${model.aliases.join(', ')}`)
  parts.push(model.loaded ? 'loaded' : 'not loaded')
  return parts.join('; ')
}

/** `since`: when the server started serving the model (Pigment keeps no creation date for model folders). */
export function toScenarioModel(model: ModelSummary, since: Date): ScenarioModel {
  return {
    id: model.name,
    name: model.name,
    shortDescription: describeModel(model),
    type: modelTypeOf(model),
    capabilities: ['txt2img'],
    privacy: 'private',
    source: 'other',
    status: 'trained',
    custom: false,
    tags: [],
    collectionIds: [],
    exampleAssetIds: [],
    trainingImagesNumber: 0,
    createdAt: since.toISOString(),
    updatedAt: since.toISOString(),
  }
}
