/**
 * Pure translation between Segmind's Chroma API (seeds `001_…`, `002_…`) and Pigment's canonical types: the
 * body with its documented defaults → the canonical input, a job → Segmind's v2 status and result bodies, and
 * Pigment's error codes → the HTTP statuses Segmind documents. No Fastify, no I/O.
 * @module
 */
import type { ErrorCode, PigmentError } from '../../core/errors.js'
import type { GenerationInput } from '../../core/generation-request.js'
import type { Job } from '../../core/job.js'
import { resolveSampler } from '../../engine/sampler-names.js'
import type { ChromaBody, ResultBody, SegmindState, StatusBody, SubmitBody } from './schema.js'

/** Every documented default of the Chroma page. */
export const SEGMIND_DEFAULTS = Object.freeze({
  negative_prompt: 'low quality, ugly, deformed, blurry, bad anatomy, distorted, unrealistic',
  width: 1024,
  height: 1024,
  aspect_ratio: '1:1 square 1024x1024',
  cfg: 7,
  sampler_name: 'euler',
  scheduler: 'beta',
  steps: 40,
  seed: 123456789,
  samples: 1,
  image_format: 'png',
  image_quality: 95,
  base64: false,
} as const)

/** Until credits exist every key has plenty; the header is still sent, as Segmind documents. */
export const UNLIMITED_CREDITS = 1_000_000_000

export interface SegmindSubmission {
  /** The model is left out: the route resolves `{model}` through the registry. */
  readonly input: GenerationInput
  readonly base64: boolean
}

/** A shape-checked body → the canonical input, every omitted parameter at Segmind's documented default. */
export function toSubmission(body: ChromaBody): SegmindSubmission {
  const { width, height } = dimensionsOf(body)
  const d = SEGMIND_DEFAULTS
  const input: GenerationInput = {
    prompt: body.prompt,
    negativePrompt: body.negative_prompt ?? d.negative_prompt,
    width,
    height,
    steps: body.steps ?? d.steps,
    cfg: body.cfg ?? d.cfg,
    sampler: resolveSampler(body.sampler_name ?? d.sampler_name),
    scheduler: body.scheduler ?? d.scheduler,
    seed: body.seed ?? d.seed,
    n: body.samples ?? d.samples,
    output: { format: body.image_format ?? d.image_format, quality: body.image_quality ?? d.image_quality },
  }
  return { input, base64: body.base64 ?? d.base64 }
}

/** A preset fixes the size (its name ends in WxH); `custom` takes width/height, each defaulting to 1024. */
export function dimensionsOf(body: ChromaBody): { width: number; height: number } {
  const preset = body.aspect_ratio ?? SEGMIND_DEFAULTS.aspect_ratio
  if (preset === 'custom') {
    return { width: body.width ?? SEGMIND_DEFAULTS.width, height: body.height ?? SEGMIND_DEFAULTS.height }
  }
  const match = /(\d+)x(\d+)$/.exec(preset)
  if (!match) throw new RangeError(`aspect ratio preset without a size: ${preset}`)
  return { width: Number(match[1]), height: Number(match[2]) }
}

export function toSegmindState(job: Job): SegmindState {
  switch (job.state) {
    case 'queued':
      return 'QUEUED'
    case 'running':
      return 'PROCESSING'
    case 'succeeded':
      return 'COMPLETED'
    default:
      return 'FAILED'
  }
}

function failureOf(job: Job): string {
  if (job.state === 'canceled') return 'request was canceled'
  return job.error?.message ?? 'request failed'
}

export function toSubmitBody(job: Job, baseUrl: string): SubmitBody {
  const requestUrl = `${baseUrl}/v2/requests/${encodeURIComponent(job.id)}`
  return {
    request_id: job.id,
    status: 'QUEUED',
    status_url: `${requestUrl}/status`,
    response_url: requestUrl,
  }
}

/** The status body; FAILED is served as HTTP 422 (see `httpStatusOf`). */
export function toStatusBody(job: Job): StatusBody {
  const status = toSegmindState(job)
  return status === 'FAILED'
    ? { request_id: job.id, status, error: failureOf(job) }
    : { request_id: job.id, status }
}

/** The result body; `output` is whatever the caller asked for (URLs, or base64 with `base64: true`). */
export function toResultBody(job: Job, outputs: readonly string[]): ResultBody {
  const status = toSegmindState(job)
  const finished = status === 'COMPLETED' || status === 'FAILED'
  return {
    request_id: job.id,
    status,
    error: status === 'FAILED' ? failureOf(job) : null,
    output: status !== 'COMPLETED' ? null : outputs.length === 1 ? outputs[0] : [...outputs],
    metrics: finished ? { inference_time: inferenceSeconds(job) } : null,
  }
}

/** HTTP status of a v2 body: FAILED → 422 (as Segmind serves it), still working → 202, else 200. */
export function httpStatusOf(state: SegmindState): number {
  if (state === 'FAILED') return 422
  if (state === 'COMPLETED') return 200
  return 202
}

function inferenceSeconds(job: Job): number {
  if (job.startedAt === null || job.finishedAt === null) return 0
  return Math.round(job.finishedAt.getTime() - job.startedAt.getTime()) / 1000
}

/**
 * Pigment's error → one of the statuses Segmind documents: 400, 401, 403, 404, 406, 429, 500, 502, 504.
 * Expired requests are 404 ("unknown or expired"); anything else in the 4xx family is a bad request. Segmind
 * documents no 503, so every service-unavailable error (no model configured, device or storage down,
 * shutting down) answers its closest documented code, 502 "Service temporarily unavailable".
 */
export function toSegmindHttpStatus(error: PigmentError): number {
  const byCode: Partial<Record<ErrorCode, number>> = {
    AUTH_UNAUTHORIZED: 401,
    AUTH_FORBIDDEN: 403,
    STORAGE_BAD_SIGNATURE: 403,
    CREDITS_INSUFFICIENT: 406,
    QUEUE_FULL: 429,
    RATE_LIMITED: 429,
    REQUEST_TIMEOUT: 504,
    GONE: 404,
    STORAGE_URL_EXPIRED: 404,
  }
  const mapped = byCode[error.code]
  if (mapped !== undefined) return mapped
  if (error.httpStatus === 404) return 404
  if (error.httpStatus === 503) return 502
  if (error.httpStatus >= 400 && error.httpStatus < 500) return 400
  return 500
}
