/**
 * TypeBox schemas of the Scenario dialect, after Scenario's OpenAPI 3.0 document (seed `004_…`). Request
 * schemas are the first error gate: a wrong type, an out-of-range number or an unknown enum value is a 400
 * naming the field. Bounds are Scenario's; the configured limits and the model's manifest are checked later.
 * Response schemas list exactly the fields Pigment fills in Scenario's job, asset and model objects.
 * Unknown request fields are ignored (Scenario documents no strictness).
 * @module
 */
import { type Static, type TSchema, Type } from '@sinclair/typebox'

const literals = <T extends string>(values: readonly T[]) =>
  Type.Union(values.map((value) => Type.Literal(value)))

/** `scheduler`: diffusers scheduler class names, exactly the document's enum. */
export const SCENARIO_SCHEDULERS = [
  'DDIMScheduler',
  'DDPMScheduler',
  'DEISMultistepScheduler',
  'DPMSolverMultistepScheduler',
  'DPMSolverSinglestepScheduler',
  'EulerAncestralDiscreteScheduler',
  'EulerDiscreteScheduler',
  'HeunDiscreteScheduler',
  'KDPM2AncestralDiscreteScheduler',
  'KDPM2DiscreteScheduler',
  'LCMScheduler',
  'LMSDiscreteScheduler',
  'PNDMScheduler',
  'TCDScheduler',
  'UniPCMultistepScheduler',
] as const
export type ScenarioScheduler = (typeof SCENARIO_SCHEDULERS)[number]

export const ASPECT_RATIOS = [
  '16:9',
  '1:1',
  '21:9',
  '2:3',
  '3:2',
  '3:4',
  '4:3',
  '4:5',
  '5:4',
  '9:16',
  '9:21',
] as const
export type AspectRatio = (typeof ASPECT_RATIOS)[number]

/** Scenario's job statuses (the document's enum). */
export const JOB_STATUSES = [
  'canceled',
  'failure',
  'finalizing',
  'in-progress',
  'pending',
  'queued',
  'success',
  'warming-up',
] as const
export type ScenarioJobStatus = (typeof JOB_STATUSES)[number]

/** Scenario's model types; Pigment reports the three its families correspond to. */
export const MODEL_TYPES = [
  'custom',
  'flux.1',
  'flux.1-composition',
  'flux.1-kontext-dev',
  'flux.1-kontext-lora',
  'flux.1-krea-dev',
  'flux.1-krea-lora',
  'flux.1-lora',
  'flux.1-pro',
  'flux.1.1-pro-ultra',
  'flux1.1-pro',
  'gpt-image-1',
  'sd-1_5',
  'sd-1_5-composition',
  'sd-1_5-lora',
  'sd-xl',
  'sd-xl-composition',
  'sd-xl-lora',
] as const
export type ScenarioModelType = (typeof MODEL_TYPES)[number]

// ── requests ────────────────────────────────────────────────────────────────────────────────────────────

const DIGITS = '^[0-9]{1,16}$'

export const Txt2imgBody = Type.Object({
  modelId: Type.String({ minLength: 1, maxLength: 200 }),
  prompt: Type.String({ maxLength: 20_000 }),
  negativePrompt: Type.Optional(Type.String({ maxLength: 20_000 })),
  numSamples: Type.Optional(Type.Integer({ minimum: 1, maximum: 128 })),
  numInferenceSteps: Type.Optional(Type.Integer({ minimum: 1, maximum: 150 })),
  guidance: Type.Optional(Type.Number({ minimum: 0, maximum: 20 })),
  width: Type.Optional(Type.Integer({ minimum: 64, maximum: 2048, multipleOf: 8 })),
  height: Type.Optional(Type.Integer({ minimum: 64, maximum: 2048, multipleOf: 8 })),
  aspectRatio: Type.Optional(literals(ASPECT_RATIOS)),
  /** A string in Scenario's document; a JSON number is accepted too, as clients send either. */
  seed: Type.Optional(
    Type.Union([
      Type.String({ pattern: DIGITS }),
      Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
    ]),
  ),
  scheduler: Type.Optional(literals(SCENARIO_SCHEDULERS)),
  hideResults: Type.Optional(Type.Boolean()),
  intermediateImages: Type.Optional(Type.Boolean()),
  negativePromptStrength: Type.Optional(Type.Number({ minimum: 0, maximum: 10 })),
  concepts: Type.Optional(
    Type.Array(
      Type.Object({
        modelId: Type.String(),
        modelEpoch: Type.Optional(Type.String()),
        scale: Type.Number({ minimum: -2, maximum: 2 }),
      }),
    ),
  ),
  modelEpoch: Type.Optional(Type.String()),
  baseModelId: Type.Optional(Type.String()),
})
export type Txt2imgBody = Static<typeof Txt2imgBody>

/** Scenario types its query flags as strings; these are the spellings taken as true or false. */
const Flag = Type.Union([literals(['true', 'false', '1', '0', ''])])

export const Txt2imgQuery = Type.Object({
  dryRun: Type.Optional(Flag),
  originalAssets: Type.Optional(Flag),
})
export type Txt2imgQuery = Static<typeof Txt2imgQuery>

/** A comma-separated list, or the parameter repeated. */
const List = Type.Union([Type.String(), Type.Array(Type.String())])

export const JobListQuery = Type.Object({
  authorId: Type.Optional(Type.String()),
  hideResults: Type.Optional(Flag),
  workflowId: Type.Optional(Type.String()),
  pageSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })),
  type: Type.Optional(Type.String()),
  types: Type.Optional(List),
  paginationToken: Type.Optional(Type.String({ maxLength: 2000 })),
  status: Type.Optional(literals(JOB_STATUSES)),
})
export type JobListQuery = Static<typeof JobListQuery>

export const JobIdParams = Type.Object({ jobId: Type.String({ minLength: 1, maxLength: 200 }) })
export type JobIdParams = Static<typeof JobIdParams>

export const JobActionBody = Type.Object({ action: Type.Literal('cancel') })
export type JobActionBody = Static<typeof JobActionBody>

export const AssetListQuery = Type.Object({
  pageSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
  paginationToken: Type.Optional(Type.String({ maxLength: 2000 })),
  inferenceId: Type.Optional(Type.String()),
  modelId: Type.Optional(Type.String()),
  authorId: Type.Optional(Type.String()),
  /** Checked against Scenario's asset type enum in translate.ts (the list is long). */
  type: Type.Optional(Type.String()),
  types: Type.Optional(List),
  privacy: Type.Optional(literals(['private', 'public', 'unlisted'])),
  sortBy: Type.Optional(literals(['createdAt', 'updatedAt'])),
  sortDirection: Type.Optional(literals(['asc', 'desc'])),
  createdAfter: Type.Optional(Type.String()),
  createdBefore: Type.Optional(Type.String()),
  updatedAfter: Type.Optional(Type.String()),
  updatedBefore: Type.Optional(Type.String()),
  parentAssetId: Type.Optional(Type.String()),
  rootAssetId: Type.Optional(Type.String()),
  collectionId: Type.Optional(Type.String()),
  tags: Type.Optional(Type.String()),
  originalAssets: Type.Optional(Flag),
})
export type AssetListQuery = Static<typeof AssetListQuery>

export const AssetIdParams = Type.Object({ assetId: Type.String({ minLength: 1, maxLength: 200 }) })
export type AssetIdParams = Static<typeof AssetIdParams>

export const AssetGetQuery = Type.Object({
  withEmbedding: Type.Optional(Flag),
  originalAssets: Type.Optional(Flag),
})

export const DeleteAssetsBody = Type.Object({
  assetIds: Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { minItems: 1, maxItems: 100 }),
})
export type DeleteAssetsBody = Static<typeof DeleteAssetsBody>

export const ModelListQuery = Type.Object({
  pageSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
  paginationToken: Type.Optional(Type.String({ maxLength: 2000 })),
  privacy: Type.Optional(literals(['private', 'public', 'unlisted'])),
  status: Type.Optional(literals(['copying', 'failed', 'new', 'trained', 'training', 'training-canceled'])),
  type: Type.Optional(Type.String()),
  types: Type.Optional(Type.String()),
  loadedOnly: Type.Optional(Flag),
  blacklisted: Type.Optional(Flag),
  sortBy: Type.Optional(literals(['createdAt', 'updatedAt', 'score'])),
  sortDirection: Type.Optional(literals(['asc', 'desc'])),
  collectionId: Type.Optional(Type.String()),
  collectionIds: Type.Optional(Type.String()),
  tags: Type.Optional(Type.String()),
  createdAfter: Type.Optional(Type.String()),
  createdBefore: Type.Optional(Type.String()),
  updatedAfter: Type.Optional(Type.String()),
  updatedBefore: Type.Optional(Type.String()),
  originalAssets: Type.Optional(Flag),
})
export type ModelListQuery = Static<typeof ModelListQuery>

export const ModelIdParams = Type.Object({ modelId: Type.String({ minLength: 1, maxLength: 200 }) })
export type ModelIdParams = Static<typeof ModelIdParams>

export const UsageQuery = Type.Object({
  startDate: Type.Optional(Type.String()),
  endDate: Type.Optional(Type.String()),
  timeRange: Type.Optional(Type.String()),
  type: Type.Optional(Type.String()),
  userId: Type.Optional(Type.String()),
  userIds: Type.Optional(Type.String()),
  projectIds: Type.Optional(Type.String()),
  activityOffset: Type.Optional(Type.String()),
})
export type UsageQuery = Static<typeof UsageQuery>

// ── responses ───────────────────────────────────────────────────────────────────────────────────────────

/** An object whose members are whatever the translator put there (Scenario leaves these open). */
const OpenObject = Type.Object({}, { additionalProperties: true })

const Inference = Type.Object({
  type: Type.Literal('txt2img'),
  prompt: Type.String(),
  negativePrompt: Type.Optional(Type.String()),
  seed: Type.Optional(Type.String()),
  numSamples: Type.Number(),
  numInferenceSteps: Type.Number(),
  guidance: Type.Number(),
  width: Type.Number(),
  height: Type.Number(),
  aspectRatio: Type.Optional(literals(ASPECT_RATIOS)),
  scheduler: Type.Optional(literals(SCENARIO_SCHEDULERS)),
  hideResults: Type.Boolean(),
  intermediateImages: Type.Boolean(),
})
export type ScenarioInference = Static<typeof Inference>

const StatusSchema = literals(JOB_STATUSES)

export const JobSchema = Type.Object({
  jobId: Type.String(),
  jobType: Type.Literal('inference'),
  status: StatusSchema,
  progress: Type.Number(),
  createdAt: Type.String(),
  updatedAt: Type.String(),
  authorId: Type.String(),
  ownerId: Type.String(),
  billing: Type.Object({ cuCost: Type.Number(), cuDiscount: Type.Number() }),
  statusHistory: Type.Array(Type.Object({ date: Type.String(), status: StatusSchema })),
  metadata: Type.Object({
    input: OpenObject,
    output: Type.Optional(OpenObject),
    assetIds: Type.Array(Type.String()),
  }),
})
export type ScenarioJob = Static<typeof JobSchema>

const Cost = {
  creativeUnitsCost: Type.Number(),
  creativeUnitsDiscount: Type.Number(),
}

export const Txt2imgResponse = Type.Object({ inference: Inference, job: JobSchema, ...Cost })
export type Txt2imgResponse = Static<typeof Txt2imgResponse>

export const DryRunResponse = Type.Object(Cost)
export type DryRunResponse = Static<typeof DryRunResponse>

export const JobResponse = Type.Object({ job: JobSchema })

export const JobListResponse = Type.Object({
  jobs: Type.Array(JobSchema),
  nextPaginationToken: Type.Optional(Type.String()),
})
export type JobListResponse = Static<typeof JobListResponse>

const number = () => Type.Optional(Type.Number())

export const AssetSchema = Type.Object({
  id: Type.String(),
  url: Type.String(),
  mimeType: Type.String(),
  kind: Type.Literal('image'),
  source: Type.Literal('inference-txt'),
  status: Type.Literal('success'),
  privacy: Type.Literal('private'),
  authorId: Type.String(),
  ownerId: Type.String(),
  createdAt: Type.String(),
  updatedAt: Type.String(),
  tags: Type.Array(Type.String()),
  collectionIds: Type.Array(Type.String()),
  editCapabilities: Type.Array(Type.String()),
  isHidden: Type.Boolean(),
  outputIndex: Type.Number(),
  properties: Type.Object({ size: Type.Number(), width: Type.Number(), height: Type.Number() }),
  metadata: Type.Object({
    kind: Type.Literal('image'),
    type: Type.Literal('inference-txt2img'),
    modelId: Type.String(),
    inferenceId: Type.String(),
    parentJobId: Type.String(),
    outputIndex: Type.Number(),
    seed: Type.String(),
    prompt: Type.Optional(Type.String()),
    negativePrompt: Type.Optional(Type.String()),
    guidance: number(),
    scheduler: Type.Optional(Type.String()),
    numInferenceSteps: number(),
    width: number(),
    height: number(),
  }),
})
export type ScenarioAsset = Static<typeof AssetSchema>

export const AssetResponse = Type.Object({ asset: AssetSchema })

export const AssetListResponse = Type.Object({
  assets: Type.Array(AssetSchema),
  nextPaginationToken: Type.Optional(Type.String()),
})
export type AssetListResponse = Static<typeof AssetListResponse>

export const DeleteAssetsResponse = Type.Object({})

export const ModelSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  shortDescription: Type.String(),
  type: literals(MODEL_TYPES),
  capabilities: Type.Array(Type.Literal('txt2img')),
  privacy: Type.Literal('private'),
  source: Type.Literal('other'),
  status: Type.Literal('trained'),
  custom: Type.Boolean(),
  tags: Type.Array(Type.String()),
  collectionIds: Type.Array(Type.String()),
  exampleAssetIds: Type.Array(Type.String()),
  trainingImagesNumber: Type.Number(),
  createdAt: Type.String(),
  updatedAt: Type.String(),
})
export type ScenarioModel = Static<typeof ModelSchema>

export const ModelListResponse = Type.Object({
  models: Type.Array(ModelSchema),
  nextPaginationToken: Type.Optional(Type.String()),
})
export type ModelListResponse = Static<typeof ModelListResponse>

export const ModelResponse = Type.Object({ model: ModelSchema })

const UsagePoint = Type.Object({
  time: Type.String(),
  cost: Type.Number(),
  discount: Type.Number(),
  jobs: Type.Number(),
})

export const UsageResponse = Type.Object({
  modelUsages: Type.Array(Type.Object({ modelId: Type.String(), points: Type.Array(UsagePoint) })),
  usages: Type.Array(
    Type.Object({
      granularity: Type.Literal('1d'),
      usageName: Type.Literal('images-generation'),
      points: Type.Array(Type.Object({ time: Type.String(), value: Type.String() })),
    }),
  ),
})
export type UsageResponse = Static<typeof UsageResponse>

/** Scenario's error body (BadRequestResponse, NotFoundResponse, … share it). */
export const ErrorSchema = Type.Object({
  apiError: Type.String(),
  error: Type.String(),
  id: Type.String(),
  infos: OpenObject,
  createdAt: Type.String(),
  updatedAt: Type.String(),
})
export type ScenarioErrorBody = Static<typeof ErrorSchema>

/** Scenario's 429 body (`TooManyRequests`). */
export const TooManyRequestsSchema = Type.Object({
  reason: Type.String(),
  name: Type.String(),
  details: OpenObject,
})
export type TooManyRequestsBody = Static<typeof TooManyRequestsSchema>

export const errorResponses: Record<string, TSchema> = {
  429: TooManyRequestsSchema,
  '4xx': ErrorSchema,
  '5xx': ErrorSchema,
}
