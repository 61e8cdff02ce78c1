/**
 * TypeBox schemas of Segmind's Chroma API (seeds `001_…`, `002_…`): every parameter with the documented range
 * and allowed values, the v2 async bodies as the `segmind` Python SDK reads them, and the `{error}` envelope.
 * Defaults live in `translate.ts`, where they are applied.
 * @module
 */
import { type Static, type TLiteral, type TUnion, Type } from '@sinclair/typebox'

/** The documented `aspect_ratio` presets; `custom` uses width/height. */
export const ASPECT_RATIOS = [
  'custom',
  '1:1 square 1024x1024',
  '3:4 portrait 896x1152',
  '5:8 portrait 832x1216',
  '9:16 portrait 768x1344',
  '9:21 portrait 640x1536',
  '4:3 landscape 1152x896',
  '3:2 landscape 1216x832',
  '16:9 landscape 1344x768',
  '21:9 landscape 1536x640',
] as const

/**
 * The documented `sampler_name` values ("12 total"). The page lists ten and "+2 more"; the last two are
 * ComfyUI's next entries after `dpmpp_sde` in its menu order, which the other ten follow.
 */
export const SAMPLER_NAMES = [
  'euler',
  'euler_a',
  'heun',
  'dpm_2',
  'dpm_2_a',
  'lms',
  'dpm_fast',
  'dpm_adaptive',
  'dpmpp_2s_a',
  'dpmpp_sde',
  'dpmpp_2m',
  'dpmpp_2m_sde',
] as const

export const SCHEDULERS = ['normal', 'karras', 'exponential', 'beta', 'sgm_uniform', 'simple'] as const

export const IMAGE_FORMATS = ['jpeg', 'png', 'webp'] as const

/** A union of string literals whose static type is the union of the values (`map` alone widens to string). */
function oneOf<T extends string>(values: readonly T[]): TUnion<TLiteral<T>[]> {
  return Type.Union(values.map((value) => Type.Literal(value)))
}

export const ChromaBody = Type.Object(
  {
    prompt: Type.String({ minLength: 1, maxLength: 20_000 }),
    negative_prompt: Type.Optional(Type.String({ maxLength: 20_000 })),
    width: Type.Optional(Type.Integer({ minimum: 768, maximum: 2048 })),
    height: Type.Optional(Type.Integer({ minimum: 768, maximum: 2048 })),
    aspect_ratio: Type.Optional(oneOf(ASPECT_RATIOS)),
    cfg: Type.Optional(Type.Number({ minimum: 1, maximum: 20 })),
    sampler_name: Type.Optional(oneOf(SAMPLER_NAMES)),
    scheduler: Type.Optional(oneOf(SCHEDULERS)),
    steps: Type.Optional(Type.Integer({ minimum: 10, maximum: 75 })),
    seed: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })),
    samples: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    image_format: Type.Optional(oneOf(IMAGE_FORMATS)),
    image_quality: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
    base64: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: true },
)
export type ChromaBody = Static<typeof ChromaBody>

export const ModelParams = Type.Object({ model: Type.String({ minLength: 1, maxLength: 200 }) })
export const RequestParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) })
export type ModelParams = Static<typeof ModelParams>
export type RequestParams = Static<typeof RequestParams>

export type SegmindState = 'QUEUED' | 'PROCESSING' | 'COMPLETED' | 'FAILED'
const SegmindStateSchema = oneOf(['QUEUED', 'PROCESSING', 'COMPLETED', 'FAILED'] as const)

/** `base64: true` on the synchronous route. */
export const Base64Body = Type.Object({ image: Type.String(), images: Type.Array(Type.String()) })
export type Base64Body = Static<typeof Base64Body>

/** `POST /v2/{model}`. */
export const SubmitBody = Type.Object({
  request_id: Type.String(),
  status: Type.Literal('QUEUED'),
  status_url: Type.String(),
  response_url: Type.String(),
})
export type SubmitBody = Static<typeof SubmitBody>

/** `GET /v2/requests/{id}/status`; FAILED carries `error` and is served as HTTP 422. */
export const StatusBody = Type.Object({
  request_id: Type.String(),
  status: SegmindStateSchema,
  error: Type.Optional(Type.String()),
})
export type StatusBody = Static<typeof StatusBody>

/** `GET /v2/requests/{id}`: `output` is the image URL (a list when samples > 1), or base64 when asked. */
export const ResultBody = Type.Object({
  request_id: Type.String(),
  status: SegmindStateSchema,
  error: Type.Union([Type.String(), Type.Null()]),
  output: Type.Union([Type.String(), Type.Array(Type.String()), Type.Null()]),
  metrics: Type.Union([Type.Object({ inference_time: Type.Number() }), Type.Null()]),
})
export type ResultBody = Static<typeof ResultBody>

export const ErrorBody = Type.Object({ error: Type.String() })
export type ErrorBody = Static<typeof ErrorBody>
