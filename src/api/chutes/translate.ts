/**
 * Pure translation between Chutes' image endpoint (seed `003_…`) and Pigment's canonical types, and of
 * Pigment's errors into the FastAPI-style bodies Chutes answers with. No Fastify, no I/O.
 * @module
 */
import type { PigmentError } from '../../core/errors.js'
import type { GenerationInput } from '../../core/generation-request.js'
import type { ErrorBody, GenerateBody } from './schema.js'

/** The documented defaults; the response is always JPEG. */
export const CHUTES_DEFAULTS = Object.freeze({ width: 1024, height: 1024, steps: 50, trueCfgScale: 4 })

/**
 * A shape-checked body → the canonical input. Pigment's models have one guidance knob: `true_cfg_scale`
 * (classifier-free guidance, default 4) sets it; a request that gives only `guidance_scale`, like the
 * documented example, gets that value instead, so the field the caller chose is the one that acts.
 */
export function toGenerationInput(body: GenerateBody): GenerationInput {
  return {
    prompt: body.prompt,
    ...(body.model === undefined ? {} : { model: body.model }),
    ...(body.negative_prompt === undefined ? {} : { negativePrompt: body.negative_prompt }),
    width: body.width ?? CHUTES_DEFAULTS.width,
    height: body.height ?? CHUTES_DEFAULTS.height,
    steps: body.num_inference_steps ?? CHUTES_DEFAULTS.steps,
    cfg: body.true_cfg_scale ?? body.guidance_scale ?? CHUTES_DEFAULTS.trueCfgScale,
    ...(body.seed === undefined ? {} : { seed: body.seed }),
    n: 1,
    output: { format: 'jpeg' },
  }
}

/** Canonical field names back to the request's, for error locations. */
const FIELD_NAMES: Readonly<Record<string, string>> = {
  negativePrompt: 'negative_prompt',
  steps: 'num_inference_steps',
  cfg: 'true_cfg_scale',
}

/**
 * Pigment's error → Chutes' status and body. Bad parameters are FastAPI's 422 with a `detail` list locating
 * the field in the body; everything else keeps its status with a `detail` string.
 */
export function toChutesError(error: PigmentError): { status: number; body: ErrorBody } {
  if (error.code === 'VALIDATION_FAILED' || error.code === 'REQUEST_INVALID_PARAM') {
    const field = error.field === undefined ? undefined : (FIELD_NAMES[error.field] ?? error.field)
    const loc = field === undefined || field === 'body' ? ['body'] : ['body', ...field.split('.')]
    const missing = / is required$/.test(error.message)
    const message =
      error.field !== undefined && error.message.startsWith(`${error.field}: `)
        ? error.message.slice(error.field.length + 2)
        : error.message
    return {
      status: 422,
      body: {
        detail: [
          { type: missing ? 'missing' : 'value_error', loc, msg: missing ? 'Field required' : message },
        ],
      },
    }
  }
  if (error.code === 'DIALECT_UNSUPPORTED_PARAM') return { status: 400, body: { detail: error.message } }
  if (error.httpStatus >= 500 && error.code === 'INTERNAL') {
    return { status: 500, body: { detail: 'Internal Server Error' } }
  }
  return { status: error.httpStatus, body: { detail: error.message } }
}
