/**
 * TypeBox request and response schemas of the native API. They are the first of the three error gates (a
 * bad shape is a 400 naming the field) and the source of the OpenAPI document. Bounds here are hard caps;
 * the configured limits and the model's manifest are checked later, by canonicalization.
 * @module
 */
import { type Static, Type } from '@sinclair/typebox'

/** Record ids (see core/ids.ts): anything else, `..` included, is rejected before any lookup. */
export const IdSchema = Type.String({ pattern: '^[0-9a-hjkmnp-tv-z]{26}$', description: 'record id' })
export const IdParams = Type.Object({ id: IdSchema })
export type IdParams = Static<typeof IdParams>

export const ModelIdParams = Type.Object({
  id: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$', description: 'model name or alias' }),
})
export type ModelIdParams = Static<typeof ModelIdParams>

export const OutputFormatSchema = Type.Union([
  Type.Literal('png'),
  Type.Literal('jpeg'),
  Type.Literal('webp'),
])

export const GenerationBody = Type.Object(
  {
    prompt: Type.String({ minLength: 1, maxLength: 20_000 }),
    negativePrompt: Type.Optional(Type.String({ maxLength: 20_000 })),
    model: Type.Optional(
      Type.String({ minLength: 1, maxLength: 200, description: 'default: the server default' }),
    ),
    width: Type.Optional(Type.Integer({ minimum: 8, maximum: 16_384 })),
    height: Type.Optional(Type.Integer({ minimum: 8, maximum: 16_384 })),
    steps: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
    cfg: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
    sampler: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'e.g. euler, dpmpp_2m' })),
    scheduler: Type.Optional(
      Type.String({ minLength: 1, maxLength: 64, description: 'e.g. simple, karras' }),
    ),
    seed: Type.Optional(
      Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'default: random' }),
    ),
    n: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'number of images' })),
    outputFormat: Type.Optional(OutputFormatSchema),
    quality: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, description: 'JPEG/WebP quality' })),
    priority: Type.Optional(Type.Integer({ minimum: -100, maximum: 100, description: 'higher runs first' })),
    async: Type.Optional(
      Type.Boolean({ description: 'answer 202 at once (same as the header Prefer: respond-async)' }),
    ),
  },
  { additionalProperties: false },
)
export type GenerationBody = Static<typeof GenerationBody>

export const JobStateSchema = Type.Union(
  ['queued', 'running', 'succeeded', 'failed', 'canceled', 'expired'].map((state) => Type.Literal(state)),
)

const Nullable = <T extends ReturnType<typeof Type.String>>(schema: T) => Type.Union([schema, Type.Null()])

export const ImageLinkSchema = Type.Object({
  assetId: Type.String(),
  /** Signed URL (local store) or presigned URL (S3) that anyone holding it can GET until it expires. */
  url: Type.String(),
  /** The image through the API: `/api/assets/:id/file`. */
  fileUrl: Type.String(),
  seed: Type.Integer(),
  width: Type.Integer(),
  height: Type.Integer(),
  format: OutputFormatSchema,
})
export type ImageLink = Static<typeof ImageLinkSchema>

const ProgressSchema = Type.Object({
  image: Type.Integer(),
  images: Type.Integer(),
  step: Type.Integer(),
  steps: Type.Integer(),
})

export const JobSchema = Type.Object({
  id: Type.String(),
  state: JobStateSchema,
  /** 0 = next to run; null when not queued. */
  queuePosition: Type.Union([Type.Integer(), Type.Null()]),
  request: Type.Object({
    prompt: Type.String(),
    negativePrompt: Type.String(),
    model: Type.String(),
    width: Type.Integer(),
    height: Type.Integer(),
    steps: Type.Integer(),
    cfg: Type.Number(),
    sampler: Type.String(),
    scheduler: Type.String(),
    seed: Type.Integer(),
    seedWasRandom: Type.Boolean(),
    n: Type.Integer(),
    outputFormat: OutputFormatSchema,
    quality: Type.Integer(),
    priority: Type.Integer(),
  }),
  attempts: Type.Integer(),
  progress: Type.Union([ProgressSchema, Type.Null()]),
  error: Type.Union([Type.Object({ code: Type.String(), message: Type.String() }), Type.Null()]),
  images: Type.Array(ImageLinkSchema),
  createdAt: Type.String({ format: 'date-time' }),
  startedAt: Nullable(Type.String({ format: 'date-time' })),
  finishedAt: Nullable(Type.String({ format: 'date-time' })),
  expiresAt: Nullable(Type.String({ format: 'date-time' })),
})
export type JobBody = Static<typeof JobSchema>

export const JobListQuery = Type.Object(
  {
    state: Type.Optional(
      Type.String({
        pattern: '^[a-z]+(,[a-z]+)*$',
        description: 'comma-separated states, e.g. queued,running',
      }),
    ),
    model: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    // No `format` here: TypeBox's checker rejects unregistered formats; translate.ts parses the dates.
    createdAfter: Type.Optional(Type.String({ maxLength: 40, description: 'ISO 8601 date-time' })),
    createdBefore: Type.Optional(Type.String({ maxLength: 40, description: 'ISO 8601 date-time' })),
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
)
export type JobListQuery = Static<typeof JobListQuery>

export const JobListSchema = Type.Object({
  jobs: Type.Array(JobSchema),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
})

export const AssetSchema = Type.Object({
  id: Type.String(),
  jobId: Type.String(),
  index: Type.Integer(),
  model: Type.String(),
  seed: Type.Integer(),
  width: Type.Integer(),
  height: Type.Integer(),
  format: OutputFormatSchema,
  bytes: Type.Integer(),
  sha256: Type.String(),
  parameters: Type.Record(Type.String(), Type.Unknown()),
  url: Type.String(),
  fileUrl: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  expiresAt: Nullable(Type.String({ format: 'date-time' })),
})
export type AssetBody = Static<typeof AssetSchema>

export const ModelSchema = Type.Object({
  name: Type.String(),
  family: Type.String(),
  aliases: Type.Array(Type.String()),
  loaded: Type.Boolean(),
  isDefault: Type.Boolean(),
  defaults: Type.Record(Type.String(), Type.Unknown()),
  limits: Type.Record(Type.String(), Type.Unknown()),
})
export type ModelBody = Static<typeof ModelSchema>

export const ModelListSchema = Type.Object({ models: Type.Array(ModelSchema) })

export const WarmupSchema = Type.Object({
  model: Type.String(),
  loaded: Type.Boolean(),
  seconds: Type.Number(),
})

export const ErrorSchema = Type.Object({
  error: Type.Object({
    code: Type.String(),
    message: Type.String(),
    field: Type.Optional(Type.String()),
    jobId: Type.Optional(Type.String()),
  }),
})

export const AsyncHeaders = Type.Object({
  prefer: Type.Optional(Type.String({ description: 'respond-async answers 202 at once' })),
})

export const AssetListQuery = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 24 }),
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
)
export type AssetListQuery = Static<typeof AssetListQuery>

export const AssetListSchema = Type.Object({
  assets: Type.Array(AssetSchema),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
})
export type AssetListBody = Static<typeof AssetListSchema>

const NullableInteger = Type.Union([Type.Integer(), Type.Null()])

/** The caller's own key as the API sees it; `auth: false` when the server runs without keys. */
export const CallerSchema = Type.Object({
  auth: Type.Boolean(),
  keyId: Type.Union([Type.String(), Type.Null()]),
  name: Type.Union([Type.String(), Type.Null()]),
  role: Type.Union([Type.Literal('admin'), Type.Literal('user')]),
  /** null = unlimited. */
  credits: Type.Union([Type.Number(), Type.Null()]),
  /** Requests per minute; null = unlimited. */
  rpm: NullableInteger,
  /** Queued + running jobs at once; null = unlimited. */
  concurrency: NullableInteger,
  expiresAt: Nullable(Type.String({ format: 'date-time' })),
})
export type CallerBody = Static<typeof CallerSchema>

/** The names `sampler` and `scheduler` accept (canonical spellings; aliases are accepted too). */
export const SamplerListSchema = Type.Object({
  samplers: Type.Array(Type.String()),
  schedulers: Type.Array(Type.String()),
})
export type SamplerListBody = Static<typeof SamplerListSchema>
export type ModelListBody = Static<typeof ModelListSchema>
