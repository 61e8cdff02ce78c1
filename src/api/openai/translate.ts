/**
 * Pure translation between OpenAI's Images API and Pigment's canonical types: a generations body → the
 * canonical input, a finished job → `ImagesResponse`, the model catalog → the `/v1/models` list, and Pigment's
 * errors → OpenAI's `{error: {message, type, param, code}}`. No Fastify, no I/O.
 * @module
 */
import { errors, type PigmentError } from '../../core/errors.js'
import type { GenerationInput, OutputFormat } from '../../core/generation-request.js'
import type { Asset, Job } from '../../core/job.js'
import type { ModelProfile } from '../../jobs/canonicalize.js'
import type { ErrorEnvelope, GenerateBody, ImagesResponse, ModelList, Quality } from './schema.js'

/**
 * `quality` scales the model's default step count: what a diffusion model spends to get more detail.
 * `auto`, `standard` and `medium` keep the default; `low` halves it; `high` and `hd` add half again.
 */
const QUALITY_STEP_FACTOR: Readonly<Record<Quality, number>> = {
  low: 0.5,
  medium: 1,
  standard: 1,
  auto: 1,
  high: 1.5,
  hd: 1.5,
}
const REPORTED_QUALITY: Readonly<Record<Quality, 'low' | 'medium' | 'high'>> = {
  low: 'low',
  medium: 'medium',
  standard: 'medium',
  auto: 'medium',
  high: 'high',
  hd: 'high',
}

export interface OpenAISubmission {
  readonly input: GenerationInput
  readonly responseFormat: 'url' | 'b64_json'
  readonly quality: 'low' | 'medium' | 'high'
}

/** A shape-checked body and the model's profile (for its default steps) → the canonical input. */
export function toSubmission(body: GenerateBody, model: ModelProfile): OpenAISubmission {
  if (body.stream === true) {
    throw errors.DIALECT_UNSUPPORTED_PARAM('Streaming image generation is not supported by this server.', {
      field: 'stream',
    })
  }
  if (body.background === 'transparent') {
    throw errors.DIALECT_UNSUPPORTED_PARAM(
      "Transparent backgrounds are not supported by this model; use 'opaque' or 'auto'.",
      { field: 'background' },
    )
  }
  const quality = body.quality ?? 'auto'
  const format: OutputFormat = body.output_format ?? 'png'
  // OpenAI: output_compression applies to jpeg and webp only, and defaults to 100.
  const compressed = format !== 'png'
  const input: GenerationInput = {
    prompt: body.prompt,
    ...(body.model === undefined ? {} : { model: body.model }),
    ...sizeOf(body.size),
    ...stepsFor(quality, model),
    n: body.n ?? 1,
    output: compressed ? { format, quality: Math.max(1, body.output_compression ?? 100) } : { format },
  }
  return { input, responseFormat: body.response_format ?? 'url', quality: REPORTED_QUALITY[quality] }
}

function sizeOf(size: string | undefined): { width?: number; height?: number } {
  if (size === undefined || size === 'auto') return {}
  const match = /^(\d{1,5})x(\d{1,5})$/.exec(size)
  if (!match) {
    throw errors.REQUEST_INVALID_PARAM(
      `Invalid value for 'size': expected 'auto' or WIDTHxHEIGHT such as '1024x1024', got '${size}'.`,
      { field: 'size' },
    )
  }
  return { width: Number(match[1]), height: Number(match[2]) }
}

function stepsFor(quality: Quality, model: ModelProfile): { steps?: number } {
  const factor = QUALITY_STEP_FACTOR[quality]
  const base = model.defaults?.steps
  if (factor === 1 || base === undefined) return {}
  const scaled = Math.max(1, Math.round(base * factor))
  return { steps: Math.min(scaled, model.limits?.maxSteps ?? scaled) }
}

/** One generated image as the client asked for it. */
export type DeliveredImage = { readonly url: string } | { readonly b64_json: string }

export function toImagesResponse(
  job: Job,
  assets: readonly Asset[],
  images: readonly DeliveredImage[],
  submission: OpenAISubmission,
): ImagesResponse {
  const first = assets[0]
  return {
    created: Math.floor((job.finishedAt ?? job.createdAt).getTime() / 1000),
    data: images.map((image) => ({ ...image })),
    background: 'opaque',
    output_format: first?.format ?? job.request.output.format,
    quality: submission.quality,
    size: `${first?.width ?? job.request.width}x${first?.height ?? job.request.height}`,
  }
}

export interface ListedModel {
  readonly name: string
  readonly aliases: readonly string[]
}

/** Every model answers by its name and by each alias, so each is listed as a model id. */
export function toModelList(models: readonly ListedModel[], created: number): ModelList {
  const ids = [...new Set(models.flatMap((model) => [model.name, ...model.aliases]))]
  return { object: 'list', data: ids.map((id) => ({ id, object: 'model', created, owned_by: 'pigment' })) }
}

const TYPE_ERROR = /must be (an integer|a number|a string|true or false|an object)/

/** Pigment's error → OpenAI's status and envelope. */
export function toOpenAIError(error: PigmentError): { status: number; body: ErrorEnvelope } {
  const param = error.field ?? null
  const envelope = (status: number, message: string, type: string, code: string | null) => ({
    status,
    body: { error: { message, type, param, code } },
  })
  switch (error.code) {
    case 'VALIDATION_FAILED':
    case 'REQUEST_INVALID_PARAM':
    case 'DIALECT_UNSUPPORTED_PARAM':
      return envelope(400, invalidParamMessage(error), 'invalid_request_error', paramCode(error))
    case 'MODEL_NOT_FOUND': {
      const model = typeof error.details?.model === 'string' ? error.details.model : undefined
      const message =
        model === undefined
          ? error.message
          : `The model \`${model}\` does not exist or you do not have access to it.`
      return envelope(404, message, 'invalid_request_error', 'model_not_found')
    }
    case 'AUTH_UNAUTHORIZED':
      return envelope(401, error.message, 'invalid_request_error', 'invalid_api_key')
    case 'AUTH_FORBIDDEN':
      return envelope(403, error.message, 'invalid_request_error', 'insufficient_permissions')
    case 'CREDITS_INSUFFICIENT':
      return envelope(429, error.message, 'insufficient_quota', 'insufficient_quota')
    case 'QUEUE_FULL':
    case 'RATE_LIMITED':
      return envelope(429, error.message, 'requests', 'rate_limit_exceeded')
    case 'REQUEST_TIMEOUT':
      return envelope(504, error.message, 'server_error', 'timeout')
    default:
      if (error.httpStatus < 500)
        return envelope(error.httpStatus, error.message, 'invalid_request_error', null)
      return envelope(error.httpStatus === 503 ? 503 : 500, error.message, 'server_error', null)
  }
}

function paramCode(error: PigmentError): string {
  if (/ is required$/.test(error.message)) return 'missing_required_parameter'
  if (TYPE_ERROR.test(error.message)) return 'invalid_type'
  if (error.code === 'DIALECT_UNSUPPORTED_PARAM') return 'unsupported_value'
  return 'invalid_value'
}

/** OpenAI words parameter errors as "Invalid value for 'n': …" / "Missing required parameter: 'prompt'." */
function invalidParamMessage(error: PigmentError): string {
  const field = error.field
  if (
    field === undefined ||
    error.message.startsWith('Invalid ') ||
    error.code === 'DIALECT_UNSUPPORTED_PARAM'
  ) {
    return error.message
  }
  const detail = error.message.startsWith(`${field}: `)
    ? error.message.slice(field.length + 2)
    : error.message
  if (detail === 'is required') return `Missing required parameter: '${field}'.`
  const kind = TYPE_ERROR.test(detail) ? 'type' : 'value'
  return `Invalid ${kind} for '${field}': ${detail}.`
}
