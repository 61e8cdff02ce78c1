/**
 * TypeBox schemas of the RunPod serverless worker API (seed `000_…`, the Chroma Hybrid worker) and of the
 * RunPod queue envelope the `runpod-sdk` client sends. Field names are the worker's, snake_case. Unknown input
 * fields pass, as they do through a Python handler's `input.get(…)`; JSON `null` is dropped before validation
 * for the same reason (`None` means "not given").
 * @module
 */
import { type Static, Type } from '@sinclair/typebox'

const MAX_TEXT = 20_000

/** `input` of a job: the worker's fields, plus the cheat sheet's aliases (`cfg`, `n`) and special modes. */
export const WorkerInput = Type.Object(
  {
    prompt: Type.Optional(Type.String({ maxLength: MAX_TEXT })),
    negative_prompt: Type.Optional(Type.String({ maxLength: MAX_TEXT })),
    steps: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
    guidance_scale: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
    cfg: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
    num_images: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    n: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    width: Type.Optional(Type.Integer({ minimum: 8, maximum: 16_384 })),
    height: Type.Optional(Type.Integer({ minimum: 8, maximum: 16_384 })),
    size: Type.Optional(Type.String({ maxLength: 32 })),
    seed: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })),
    output_format: Type.Optional(Type.String({ maxLength: 16 })),
    warmup: Type.Optional(Type.Boolean()),
    cleanup: Type.Optional(Type.Boolean()),
    debug: Type.Optional(Type.Boolean()),
    comfy: Type.Optional(Type.Boolean()),
    payload: Type.Optional(Type.Object({})),
  },
  { additionalProperties: true },
)
export type WorkerInput = Static<typeof WorkerInput>

export const ExecutionPolicy = Type.Object(
  {
    /** Milliseconds a job may run before it is stopped as TIMED_OUT. */
    executionTimeout: Type.Optional(Type.Integer({ minimum: 1, maximum: 7 * 24 * 3600 * 1000 })),
    /** Milliseconds a job may live from submission, queue time included. */
    ttl: Type.Optional(Type.Integer({ minimum: 1, maximum: 7 * 24 * 3600 * 1000 })),
    lowPriority: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: true },
)
export type ExecutionPolicy = Static<typeof ExecutionPolicy>

/** Queue-mode body: `{input, webhook?, policy?}` as `runpod-sdk` sends it. */
export const QueueBody = Type.Object(
  {
    input: WorkerInput,
    webhook: Type.Optional(Type.String({ maxLength: 2048 })),
    policy: Type.Optional(ExecutionPolicy),
    s3Config: Type.Optional(Type.Object({})),
  },
  { additionalProperties: true },
)
export type QueueBody = Static<typeof QueueBody>

/** Load-balancer mode: the worker's fields directly, or wrapped in `{input}`. Told apart in translate. */
export const DirectBody = Type.Object({}, { additionalProperties: true })
export type DirectBody = Readonly<Record<string, unknown>>

export const EndpointParams = Type.Object({ endpoint: Type.String({ minLength: 1, maxLength: 200 }) })
export const JobParams = Type.Object({
  endpoint: Type.String({ minLength: 1, maxLength: 200 }),
  id: Type.String({ minLength: 1, maxLength: 100 }),
})

export type EndpointParams = Static<typeof EndpointParams>
export type JobParams = Static<typeof JobParams>

/** `?wait=` in milliseconds, as `runpod-sdk` sends on /runsync and /status-sync. */
export const WaitQuery = Type.Object({
  wait: Type.Optional(Type.Integer({ minimum: 0, maximum: 300_000 })),
})
export type WaitQuery = Static<typeof WaitQuery>

export const RunPodStatus = Type.Union(
  ['IN_QUEUE', 'IN_PROGRESS', 'COMPLETED', 'FAILED', 'CANCELLED', 'TIMED_OUT'].map((s) => Type.Literal(s)),
)
export type RunPodStatus = 'IN_QUEUE' | 'IN_PROGRESS' | 'COMPLETED' | 'FAILED' | 'CANCELLED' | 'TIMED_OUT'

export const WorkerMeta = Type.Object({
  height: Type.Integer(),
  width: Type.Integer(),
  num_inference_steps: Type.Integer(),
  guidance_scale: Type.Number(),
  num_images: Type.Integer(),
  seed: Type.Integer(),
  dtype: Type.String(),
  device: Type.String(),
  time_sec: Type.Number(),
  format: Type.String(),
  /** "64x64" when the model generated at its native size and the image was resized to width × height. */
  native_size: Type.Optional(Type.String()),
})

/** The worker's output for a generation, as in the seed's example response. */
export const WorkerResult = Type.Object({
  status: Type.Literal('ok'),
  count: Type.Integer(),
  uploaded: Type.Boolean(),
  presigned_urls: Type.Array(Type.String()),
  s3_bucket: Type.Union([Type.String(), Type.Null()]),
  s3_keys: Type.Array(Type.String()),
  /** The cheat sheet's `ok_results` shape, kept alongside for clients written against it. */
  results: Type.Array(Type.Object({ url: Type.String() })),
  meta: WorkerMeta,
})
export type WorkerResult = Static<typeof WorkerResult>

export const WorkerError = Type.Object({ status: Type.Literal('error'), error: Type.String() })
export type WorkerError = Static<typeof WorkerError>

/** Any worker output: a generation result, `warmup`, `debug` or `cleanup`. */
export const WorkerOutput = Type.Object({ status: Type.String() }, { additionalProperties: true })
/** TypeBox's static type drops `additionalProperties`, so the type says it. */
export type WorkerOutput = { readonly status: string } & Readonly<Record<string, unknown>>

/** `/run`, `/runsync`, `/status`, `/status-sync`, `/cancel` and the webhook body. */
export const JobStatusBody = Type.Object({
  id: Type.String(),
  status: RunPodStatus,
  delayTime: Type.Optional(Type.Integer()),
  executionTime: Type.Optional(Type.Integer()),
  output: Type.Optional(WorkerOutput),
  error: Type.Optional(Type.String()),
})
export type JobStatusBody = Static<typeof JobStatusBody>

export const StreamBody = Type.Object({
  status: RunPodStatus,
  stream: Type.Array(Type.Object({ output: WorkerOutput })),
})
export type StreamBody = Static<typeof StreamBody>

export const HealthBody = Type.Object({
  jobs: Type.Object({
    completed: Type.Integer(),
    failed: Type.Integer(),
    inProgress: Type.Integer(),
    inQueue: Type.Integer(),
    retried: Type.Integer(),
  }),
  workers: Type.Object({
    idle: Type.Integer(),
    initializing: Type.Integer(),
    ready: Type.Integer(),
    running: Type.Integer(),
    throttled: Type.Integer(),
    unhealthy: Type.Integer(),
  }),
})
export type HealthBody = Static<typeof HealthBody>

export const PurgeBody = Type.Object({ removed: Type.Integer(), status: Type.String() })
export type PurgeBody = Static<typeof PurgeBody>

export const PingBody = Type.Object({ status: Type.Literal('healthy') })
