/**
 * The one typed configuration object of `pigment serve`, with its defaults. Loaded once at startup by
 * `load.ts` (defaults < config file < `PIGMENT_*` environment < CLI flags) and never re-read.
 * Durations are stored in seconds, sizes in bytes; the loader accepts friendlier spellings ('1h', '20mb').
 * @module
 */
import { type Static, Type } from '@sinclair/typebox'
import { DEVICES } from '../core/devices.js'

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

const StorageSchema = Type.Object(
  {
    kind: Type.Union([Type.Literal('local'), Type.Literal('s3')], { default: 'local' }),
    bucket: Type.String({ default: '' }),
    prefix: Type.String({ default: '' }),
    /** Empty = AWS; set for MinIO, B2, R2 … */
    endpoint: Type.String({ default: '' }),
    region: Type.String({ default: 'us-east-1' }),
    forcePathStyle: Type.Boolean({ default: false }),
    /** How long a signed image URL stays valid. */
    urlTtlSeconds: Type.Number({ minimum: 1, maximum: 7 * 24 * 3600, default: 3600 }),
  },
  { additionalProperties: false, default: {} },
)

const LimitsSchema = Type.Object(
  {
    /** width × height of one image. */
    maxPixels: Type.Integer({ minimum: 64 * 64, default: 2048 * 2048 }),
    maxSteps: Type.Integer({ minimum: 1, maximum: 10_000, default: 150 }),
    /** Images per request (n). */
    maxImages: Type.Integer({ minimum: 1, maximum: 1000, default: 8 }),
  },
  { additionalProperties: false, default: {} },
)

const RateLimitSchema = Type.Object(
  {
    /** Where per-key request counts live: this process's memory, or Redis (shared by several API servers). */
    store: Type.Union([Type.Literal('memory'), Type.Literal('redis')], { default: 'memory' }),
    /** redis://… when store is redis. */
    redisUrl: Type.String({ default: '' }),
  },
  { additionalProperties: false, default: {} },
)

const CreditsSchema = Type.Object(
  {
    /** Cost multiplier per model name (default 1); the cost function is in src/credits/cost.ts. */
    modelFactors: Type.Record(
      Type.String({ minLength: 1 }),
      Type.Number({ exclusiveMinimum: 0, maximum: 1e6 }),
      {
        default: {},
      },
    ),
  },
  { additionalProperties: false, default: {} },
)

const MODEL_NAME = '^[A-Za-z0-9][A-Za-z0-9._-]*$'
const FileName = Type.String({ minLength: 1, maxLength: 500 })
/** `"nodeId.input"` of a workflow template. */
const NodeInput = Type.String({ pattern: '^.+\\.[^.]+$', maxLength: 200 })

/** A model served by ComfyUI (config file `comfyui.models`, or a folder's pigment.json with `backend: "comfyui"`). */
export const ComfyModelSchema = Type.Object(
  {
    name: Type.String({ pattern: MODEL_NAME, maxLength: 100 }),
    backend: Type.Optional(Type.Literal('comfyui')),
    aliases: Type.Optional(
      Type.Array(Type.String({ pattern: MODEL_NAME, maxLength: 100 }), { maxItems: 50 }),
    ),
    /** chroma, flux (FLUX.1), checkpoint (SD 1.x / SDXL), or workflow (the user's graph). */
    template: Type.Union([
      Type.Literal('chroma'),
      Type.Literal('flux'),
      Type.Literal('checkpoint'),
      Type.Literal('workflow'),
    ]),
    /** File names as ComfyUI lists them (models/diffusion_models, text_encoders, vae, checkpoints). */
    files: Type.Optional(
      Type.Object(
        {
          unet: Type.Optional(FileName),
          t5: Type.Optional(FileName),
          clipL: Type.Optional(FileName),
          vae: Type.Optional(FileName),
          checkpoint: Type.Optional(FileName),
        },
        { additionalProperties: false },
      ),
    ),
    /** FLUX.1 distilled guidance (default 3.5). */
    guidance: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
    /** workflow: an API-format graph, or a file holding one (relative to the config file or folder). */
    workflow: Type.Optional(Type.Record(Type.String({ maxLength: 100 }), Type.Unknown())),
    workflowFile: Type.Optional(Type.String({ minLength: 1 })),
    /** workflow: which node input Pigment fills with each request field, e.g. `{"prompt": "6.text"}`. */
    inputs: Type.Optional(
      Type.Object(
        {
          prompt: Type.Optional(NodeInput),
          negativePrompt: Type.Optional(NodeInput),
          seed: Type.Optional(NodeInput),
          steps: Type.Optional(NodeInput),
          cfg: Type.Optional(NodeInput),
          sampler: Type.Optional(NodeInput),
          scheduler: Type.Optional(NodeInput),
          width: Type.Optional(NodeInput),
          height: Type.Optional(NodeInput),
        },
        { additionalProperties: false },
      ),
    ),
    /** Shown in model lists (default: flow for chroma/flux, sd for checkpoint, comfyui for workflow). */
    family: Type.Optional(Type.String({ maxLength: 40 })),
    defaults: Type.Optional(
      Type.Object(
        {
          steps: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
          cfg: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
          sampler: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
          scheduler: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
          width: Type.Optional(Type.Integer({ minimum: 8, maximum: 16_384 })),
          height: Type.Optional(Type.Integer({ minimum: 8, maximum: 16_384 })),
          negativePrompt: Type.Optional(Type.String({ maxLength: 20_000 })),
        },
        { additionalProperties: false },
      ),
    ),
    limits: Type.Optional(
      Type.Object(
        {
          minSize: Type.Optional(Type.Integer({ minimum: 8, maximum: 16_384 })),
          maxSize: Type.Optional(Type.Integer({ minimum: 8, maximum: 16_384 })),
          sizeMultiple: Type.Optional(Type.Integer({ minimum: 1, maximum: 256 })),
          maxSteps: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
          minCfg: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
          maxCfg: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
)
export type ComfyModelEntry = Static<typeof ComfyModelSchema>

const ComfyuiSchema = Type.Object(
  {
    /** ComfyUI servers (http://host:port); every model entry may run on any of them that has its files. */
    urls: Type.Array(Type.String({ pattern: '^https?://[^\\s]+$', maxLength: 500 }), {
      default: [],
      maxItems: 64,
    }),
    models: Type.Array(ComfyModelSchema, { default: [], maxItems: 500 }),
    /** Prompts Pigment keeps in flight on one ComfyUI (it runs one at a time; more only queue there). */
    slots: Type.Integer({ minimum: 1, maximum: 64, default: 1 }),
    /** How often each ComfyUI is probed (/system_stats) for readiness. */
    healthSeconds: Type.Number({ minimum: 0.05, maximum: 3600, default: 5 }),
    /** Poll /history when a run's websocket has been closed or silent this long. */
    pollSeconds: Type.Number({ minimum: 0.01, maximum: 600, default: 1 }),
    /** Longest one image may take on ComfyUI, its queue included, before the run is stopped and retried. */
    deadlineSeconds: Type.Number({ minimum: 1, maximum: 7 * 24 * 3600, default: 1800 }),
  },
  { additionalProperties: false, default: {} },
)

export const ConfigSchema = Type.Object(
  {
    host: Type.String({ minLength: 1, default: '127.0.0.1' }),
    port: Type.Integer({ minimum: 0, maximum: 65_535, default: 7860 }),
    /** Holds the SQLite database, local images, caches and the URL-signing secret. */
    dataDir: Type.String({ minLength: 1, default: '.pigment-data' }),
    /** Model folders or registry names; empty = the default model (pigment-shapes) when it is installed. */
    models: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
    /** Extra names for models: alias → model name. */
    aliases: Type.Record(Type.String({ minLength: 1 }), Type.String({ minLength: 1 }), { default: {} }),
    /**
     * false hides the models bundled with the package: no fallback to pigment-shapes, and names resolve in
     * the model cache only. A server with neither `--model` nor a cached default then starts unready.
     */
    bundledModels: Type.Boolean({ default: true }),
    /** Model used when a request names none; empty = the first configured model. */
    defaultModel: Type.String({ default: '' }),
    /** In-process workers; 0 runs the API only (another process works the queue). */
    workers: Type.Integer({ minimum: 0, maximum: 64, default: 1 }),
    /** How long finished jobs and their images are kept. */
    retentionSeconds: Type.Number({ minimum: 0, default: 3600 }),
    /** Queued jobs beyond which submissions get 429 with Retry-After. */
    queueLimit: Type.Integer({ minimum: 1, default: 100 }),
    /** Bounded wait of a synchronous request before it answers 202 with the job. */
    syncTimeoutSeconds: Type.Number({ minimum: 0, maximum: 3600, default: 60 }),
    /** Empty = a SQLite file in dataDir; `sqlite:PATH` or `postgres://…`. */
    databaseUrl: Type.String({ default: '' }),
    storage: StorageSchema,
    /** Empty = the queue lives in the records database; `redis://…` = BullMQ dispatch across processes. */
    queueUrl: Type.String({ default: '' }),
    /** Namespace of the fleet's Redis keys and channels (several fleets may share one Redis). */
    fleetPrefix: Type.String({ pattern: '^[A-Za-z0-9_.-]+$', default: 'pigment' }),
    /** A fleet worker silent this long (BullMQ lock) is taken for dead; its job goes to another worker. */
    workerLockSeconds: Type.Number({ minimum: 1, maximum: 3600, default: 30 }),
    /** `pigment worker` serves Prometheus `/metrics` on this port (on `host`); 0 = none. */
    metricsPort: Type.Integer({ minimum: 0, maximum: 65_535, default: 0 }),
    /** Accepted API keys (operator keys, admin role). None = auth off, allowed only on a loopback host. */
    apiKeys: Type.Array(Type.String({ minLength: 8 }), { default: [] }),
    /** Serve without API keys on a non-loopback host (the operator says so explicitly). */
    insecure: Type.Boolean({ default: false }),
    /**
     * With keys configured, `/metrics` asks for one too. Off by default: Prometheus scrapers usually carry no
     * key, and the figures hold no prompts or images.
     */
    metricsAuth: Type.Boolean({ default: false }),
    /** With keys configured, `/docs` and `/openapi.json` ask for one too. Off by default: they describe the API only. */
    docsAuth: Type.Boolean({ default: false }),
    /**
     * Base of every absolute URL handed to clients (image links, status and result URLs); empty = from the
     * request when `trustProxy`, else the address the connection arrived on. Never the Host header alone.
     */
    publicBaseUrl: Type.String({ default: '' }),
    /** Believe X-Forwarded-For/-Host/-Proto (Fastify's trustProxy): only behind a proxy that sets them. */
    trustProxy: Type.Boolean({ default: false }),
    /**
     * Webhook targets allowed although they are internal (loopback, private, link-local …): CIDR ranges
     * (`10.0.0.0/8`), addresses or host names. Empty = webhooks reach public addresses only.
     */
    webhookAllow: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
    logLevel: Type.Union(
      LOG_LEVELS.map((level) => Type.Literal(level)),
      { default: 'info' },
    ),
    /** false keeps prompt text out of info-level logs. */
    logPrompts: Type.Boolean({ default: true }),
    bodyLimitBytes: Type.Integer({ minimum: 1024, maximum: 1024 ** 3, default: 1024 * 1024 }),
    limits: LimitsSchema,
    /** Per-key requests per minute (each key's own `rpm`) are counted in this store. */
    rateLimit: RateLimitSchema,
    credits: CreditsSchema,
    /** Runs per job before it fails for good (crash recovery and retryable errors). */
    maxAttempts: Type.Integer({ minimum: 1, maximum: 100, default: 3 }),
    /** On SIGTERM/SIGINT, how long running jobs may finish before they are requeued. */
    graceSeconds: Type.Number({ minimum: 0, maximum: 3600, default: 30 }),
    /** Low-resolution preview every k steps on the event stream; 0 = none. */
    previewEvery: Type.Integer({ minimum: 0, default: 0 }),
    /** Where in-process models run: onnxruntime's CPU, CUDA or WebGPU execution provider. */
    device: Type.Union(
      DEVICES.map((device) => Type.Literal(device)),
      { default: 'cpu' },
    ),
    /** Memory budget of loaded models (LRU beyond it); 0 = no limit. */
    modelMemoryBytes: Type.Integer({ minimum: 0, default: 0 }),
    /** ComfyUI servers Pigment sends jobs to, and the models they serve. */
    comfyui: ComfyuiSchema,
  },
  { additionalProperties: false },
)

export type Config = Static<typeof ConfigSchema>
export type StorageConfig = Config['storage']
export type LimitsConfig = Config['limits']
export type RateLimitConfig = Config['rateLimit']
export type ComfyuiConfig = Config['comfyui']
