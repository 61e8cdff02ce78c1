/**
 * Pure translation between the RunPod worker API (seed `000_…`) and Pigment's canonical types: a job's
 * `input` → what to do (generate, warm up, debug, clean up, ComfyUI), and a job plus its images → the
 * worker's output and RunPod's status bodies. No Fastify, no I/O.
 * @module
 */
import { errors } from '../../core/errors.js'
import type { GenerationInput, OutputFormat } from '../../core/generation-request.js'
import type { Asset, Job, JobState } from '../../core/job.js'
import type { QueueCounts } from '../../jobs/job-queue.js'
import { NATIVE_SIZE_KEY } from '../../pipelines/encode/generation-parameters.js'
import type {
  HealthBody,
  JobStatusBody,
  RunPodStatus,
  WorkerInput,
  WorkerOutput,
  WorkerResult,
} from './schema.js'

/** The worker's documented defaults (cheat sheet): 6 steps, 768×768, one image, PNG. */
export const WORKER_DEFAULTS = Object.freeze({ steps: 6, width: 768, height: 768, n: 1, format: 'PNG' })

/** Spellings of `output_format`, matched case-insensitively; JPEG is PIL's name for JPG. */
const FORMATS: Readonly<Record<string, OutputFormat>> = {
  PNG: 'png',
  JPG: 'jpeg',
  JPEG: 'jpeg',
  WEBP: 'webp',
}
const FORMAT_LABELS: Readonly<Record<OutputFormat, string>> = { png: 'PNG', jpeg: 'JPG', webp: 'WEBP' }

export type WorkerAction =
  | { readonly kind: 'warmup' }
  | { readonly kind: 'cleanup' }
  | { readonly kind: 'debug' }
  | {
      readonly kind: 'comfy'
      readonly payload: Readonly<Record<string, unknown>>
      /** The whole input, for `images` beside the payload (RunPod worker-comfyui's place for them). */
      readonly input: Readonly<Record<string, unknown>>
    }
  | {
      readonly kind: 'generate'
      /** The model is left out: the route resolves the endpoint name through the registry. */
      readonly input: GenerationInput
      /** The worker retries smaller on out-of-memory when the caller did not choose a size. */
      readonly allowDownscaleOnOom: boolean
    }

/** Load-balancer mode accepts the fields directly or wrapped in `{input}`. */
export function unwrapDirectBody(body: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const input = body.input
  if (typeof input === 'object' && input !== null && !Array.isArray(input)) {
    return input as Record<string, unknown>
  }
  return { ...body }
}

/** A job's `input` (already shape-checked) → the action the worker takes. Flags win over generation. */
export function toWorkerAction(input: WorkerInput): WorkerAction {
  if (input.warmup === true) return { kind: 'warmup' }
  if (input.cleanup === true) return { kind: 'cleanup' }
  if (input.debug === true) return { kind: 'debug' }
  if (input.comfy === true) {
    if (input.payload === undefined) throw invalid('payload', 'payload is required when comfy is true')
    return { kind: 'comfy', payload: input.payload, input }
  }
  return toGenerate(input)
}

function toGenerate(input: WorkerInput): WorkerAction {
  if (input.prompt === undefined || input.prompt.trim() === '') throw invalid('prompt', 'prompt is required')
  const size = resolveSize(input)
  const format = resolveFormat(input.output_format)
  const generation: GenerationInput = {
    prompt: input.prompt,
    ...(input.negative_prompt === undefined ? {} : { negativePrompt: input.negative_prompt }),
    width: size.width,
    height: size.height,
    steps: input.steps ?? WORKER_DEFAULTS.steps,
    ...cfgOf(input),
    n: input.num_images ?? input.n ?? WORKER_DEFAULTS.n,
    ...(input.seed === undefined ? {} : { seed: input.seed }),
    output: { format },
  }
  return { kind: 'generate', input: generation, allowDownscaleOnOom: size.defaulted }
}

/** `guidance_scale` is the field, `cfg` its alias; when both are sent the field wins. */
function cfgOf(input: WorkerInput): { cfg?: number } {
  const cfg = input.guidance_scale ?? input.cfg
  return cfg === undefined ? {} : { cfg }
}

/** `size` ("WxH") is the alternative to width/height and wins when given; both must be multiples of 8. */
function resolveSize(input: WorkerInput): { width: number; height: number; defaulted: boolean } {
  if (input.size !== undefined) {
    const match = /^\s*(\d{1,5})\s*[xX×]\s*(\d{1,5})\s*$/.exec(input.size)
    if (!match) throw invalid('size', `size must look like "1024x1024", got "${input.size}"`)
    const width = Number(match[1])
    const height = Number(match[2])
    checkMultipleOf8('size', width, height)
    return { width, height, defaulted: false }
  }
  const width = input.width ?? WORKER_DEFAULTS.width
  const height = input.height ?? WORKER_DEFAULTS.height
  checkMultipleOf8(input.width === undefined ? 'height' : 'width', width, height)
  return { width, height, defaulted: input.width === undefined && input.height === undefined }
}

function checkMultipleOf8(field: string, width: number, height: number): void {
  if (width % 8 !== 0 || height % 8 !== 0 || width < 8 || height < 8) {
    throw invalid(field, `width and height must be positive multiples of 8, got ${width}x${height}`)
  }
}

function resolveFormat(value: string | undefined): OutputFormat {
  if (value === undefined) return FORMATS[WORKER_DEFAULTS.format]
  const format = FORMATS[value.trim().toUpperCase()]
  if (format === undefined)
    throw invalid('output_format', `output_format must be PNG, JPG or WEBP, got "${value}"`)
  return format
}

function invalid(field: string, message: string) {
  return errors.REQUEST_INVALID_PARAM(message, { field: `input.${field}` })
}

/** Where the images went and what ran them, for the worker's output. */
export interface ImageDelivery {
  readonly urls: readonly string[]
  /** S3 bucket, or null for Pigment's local storage. */
  readonly bucket: string | null
  readonly device: string
  readonly dtype: string
}

/** A succeeded job and its assets (in image order) → the worker's output, as in the seed's example. */
export function toWorkerResult(job: Job, assets: readonly Asset[], delivery: ImageDelivery): WorkerResult {
  const request = job.request
  const first = assets[0]
  return {
    status: 'ok',
    count: assets.length,
    uploaded: delivery.urls.length === assets.length && assets.length > 0,
    presigned_urls: [...delivery.urls],
    s3_bucket: delivery.bucket,
    s3_keys: assets.map((asset) => asset.key),
    results: delivery.urls.map((url) => ({ url })),
    meta: {
      height: first?.height ?? request.height,
      width: first?.width ?? request.width,
      num_inference_steps: request.steps,
      guidance_scale: request.cfg,
      num_images: request.n,
      seed: request.seed,
      dtype: delivery.dtype,
      device: delivery.device,
      time_sec: roundTo(millisBetween(job.startedAt, job.finishedAt) / 1000, 2),
      format: FORMAT_LABELS[first?.format ?? request.output.format],
      ...nativeSizeOf(first),
    },
  }
}

/** The size a resized image was generated at, from the parameters written into it. */
function nativeSizeOf(asset: Asset | undefined): { native_size?: string } {
  const extra = asset?.parameters.extra
  if (typeof extra !== 'object' || extra === null) return {}
  const size = (extra as Record<string, unknown>)[NATIVE_SIZE_KEY]
  return typeof size === 'string' ? { native_size: size } : {}
}

export function toWorkerError(message: string): { status: 'error'; error: string } {
  return { status: 'error', error: message }
}

/** Pigment's job state → RunPod's status; a job Pigment stopped for its time limits reads TIMED_OUT. */
export function toRunPodStatus(state: JobState, timedOut: boolean): RunPodStatus {
  if (timedOut && (state === 'canceled' || state === 'failed')) return 'TIMED_OUT'
  switch (state) {
    case 'queued':
      return 'IN_QUEUE'
    case 'running':
      return 'IN_PROGRESS'
    case 'succeeded':
      return 'COMPLETED'
    case 'failed':
      return 'FAILED'
    case 'canceled':
    case 'expired':
      return 'CANCELLED'
  }
}

export interface StatusExtras {
  readonly timedOut: boolean
  /** The worker output of a completed job. */
  readonly output?: WorkerOutput
  readonly now: Date
}

/**
 * RunPod's status body. `delayTime` is the time queued (ms), `executionTime` the time running (ms), both as
 * RunPod reports them once known; a failed job carries its error message.
 */
export function toJobStatus(job: Job, extras: StatusExtras): JobStatusBody {
  const status = toRunPodStatus(job.state, extras.timedOut)
  const started = job.startedAt
  const delayEnd = started ?? job.finishedAt
  const body: { -readonly [K in keyof JobStatusBody]: JobStatusBody[K] } = { id: job.id, status }
  if (delayEnd !== null) body.delayTime = millisBetween(job.createdAt, delayEnd)
  if (job.finishedAt !== null)
    body.executionTime = started === null ? 0 : millisBetween(started, job.finishedAt)
  if (status === 'COMPLETED' && extras.output !== undefined) body.output = extras.output
  if (status === 'FAILED' || status === 'TIMED_OUT') body.error = errorMessage(job, extras.timedOut)
  return body
}

function errorMessage(job: Job, timedOut: boolean): string {
  if (timedOut) return 'job exceeded its execution policy (executionTimeout or ttl)'
  return job.error?.message ?? 'job failed'
}

/** Queue counts and the number of in-process workers → RunPod's `/health` body. */
/** `healthy` false (the model's ComfyUI does not answer): every worker not running a job is unhealthy. */
export function toHealth(counts: QueueCounts, workers: number, healthy = true): HealthBody {
  const running = Math.min(counts.running, workers)
  if (!healthy) {
    return {
      jobs: {
        completed: counts.succeeded,
        failed: counts.failed,
        inProgress: counts.running,
        inQueue: counts.queued,
        retried: counts.retried,
      },
      workers: { idle: 0, initializing: 0, ready: 0, running, throttled: 0, unhealthy: workers - running },
    }
  }
  return {
    jobs: {
      completed: counts.succeeded,
      failed: counts.failed,
      inProgress: counts.running,
      inQueue: counts.queued,
      retried: counts.retried,
    },
    workers: {
      idle: workers - running,
      initializing: 0,
      ready: workers - running,
      running,
      throttled: 0,
      unhealthy: 0,
    },
  }
}

function millisBetween(from: Date | null, to: Date | null): number {
  if (from === null || to === null) return 0
  return Math.max(0, Math.round(to.getTime() - from.getTime()))
}

function roundTo(value: number, digits: number): number {
  const scale = 10 ** digits
  return Math.round(value * scale) / scale
}
