/**
 * The table of settings that can be given on the command line or in the environment. One row per setting:
 * the `serve` command builds its flags and `--help` from it, and the loader reads `PIGMENT_*` from it, so a
 * setting cannot be documented in one place and missing in another.
 * @module
 */

export type OptionKind = 'string' | 'integer' | 'number' | 'boolean' | 'duration' | 'bytes' | 'list' | 'pairs'

export interface ConfigOption {
  /** Dotted path in `Config`, e.g. 'storage.bucket'. */
  readonly key: string
  /** Long flag without dashes, e.g. 's3-bucket'. */
  readonly flag: string
  /** Value placeholder shown by --help; absent for boolean switches. */
  readonly placeholder?: string
  readonly env: string
  readonly kind: OptionKind
  readonly description: string
}

function option(
  key: string,
  flag: string,
  kind: OptionKind,
  description: string,
  placeholder?: string,
): ConfigOption {
  // Repeatable flags read a comma-separated plural variable: --model → PIGMENT_MODELS.
  const repeatable = kind === 'list' || kind === 'pairs'
  const envName = repeatable ? `${flag}${flag.endsWith('s') ? 'es' : 's'}` : flag
  const env = `PIGMENT_${envName.replaceAll('-', '_').toUpperCase()}`
  return placeholder === undefined
    ? { key, flag, env, kind, description }
    : { key, flag, env, kind, description, placeholder }
}

export const CONFIG_OPTIONS: readonly ConfigOption[] = [
  option('host', 'host', 'string', 'interface to listen on (default 127.0.0.1)', 'host'),
  option('port', 'port', 'integer', 'TCP port; 0 picks a free one (default 7860)', 'port'),
  option(
    'dataDir',
    'data-dir',
    'string',
    'folder for the database, images, caches and the URL-signing secret (default ./.pigment-data)',
    'dir',
  ),
  option(
    'models',
    'model',
    'list',
    'model folder or registry name; repeatable (env: comma-separated; default: the built-in model)',
    'name|dir',
  ),
  option(
    'aliases',
    'alias',
    'pairs',
    'extra model name, e.g. chroma=pigment-shapes; repeatable',
    'alias=model',
  ),
  option(
    'bundledModels',
    'bundled-models',
    'boolean',
    'offer the models bundled with the package, by name and as the fallback default (default on; --no-bundled-models)',
  ),
  option(
    'defaultModel',
    'default-model',
    'string',
    'model for requests that name none (default: the first)',
    'name',
  ),
  option('workers', 'workers', 'integer', 'in-process workers; 0 = API only (default 1)', 'n'),
  option(
    'retentionSeconds',
    'retention',
    'duration',
    'how long finished jobs and images are kept (default 1h)',
    'time',
  ),
  option(
    'queueLimit',
    'queue-limit',
    'integer',
    'queued jobs beyond which submissions get 429 (default 100)',
    'n',
  ),
  option(
    'syncTimeoutSeconds',
    'sync-timeout',
    'duration',
    'how long a synchronous request waits before answering 202 with the job (default 60s)',
    'time',
  ),
  option(
    'databaseUrl',
    'database-url',
    'string',
    'sqlite:PATH or postgres://… (default: sqlite file in the data dir)',
    'url',
  ),
  option(
    'queueUrl',
    'queue',
    'string',
    'redis://… dispatches jobs through BullMQ to `pigment worker` processes (needs postgres and s3); default: in-process',
    'url',
  ),
  option(
    'fleetPrefix',
    'fleet-prefix',
    'string',
    'namespace of the fleet in Redis (default pigment)',
    'name',
  ),
  option(
    'workerLockSeconds',
    'worker-lock',
    'duration',
    'a fleet worker silent this long is taken for dead and its job runs elsewhere (default 30s)',
    'time',
  ),
  option(
    'metricsPort',
    'metrics-port',
    'integer',
    'pigment worker: serve Prometheus /metrics on this port; 0 = none (default 0; serve has /metrics on --port)',
    'port',
  ),
  option('storage.kind', 'storage', 'string', 'where images go: local or s3 (default local)', 'local|s3'),
  option('storage.bucket', 's3-bucket', 'string', 'S3 bucket', 'name'),
  option('storage.prefix', 's3-prefix', 'string', 'key prefix inside the bucket', 'prefix'),
  option(
    'storage.endpoint',
    's3-endpoint',
    'string',
    'S3-compatible endpoint (MinIO, B2, R2); empty = AWS',
    'url',
  ),
  option('storage.region', 's3-region', 'string', 'S3 region (default us-east-1)', 'region'),
  option('storage.forcePathStyle', 's3-force-path-style', 'boolean', 'path-style S3 URLs (MinIO, B2)'),
  option(
    'storage.urlTtlSeconds',
    'url-ttl',
    'duration',
    'lifetime of signed image URLs (default 1h)',
    'time',
  ),
  option(
    'apiKeys',
    'api-key',
    'list',
    'accepted API key (admin); repeatable; none = auth off on loopback only',
    'key',
  ),
  option('insecure', 'insecure', 'boolean', 'allow serving without API keys on a non-loopback host'),
  option(
    'metricsAuth',
    'metrics-auth',
    'boolean',
    'with keys configured, /metrics needs a key too (default: open)',
  ),
  option(
    'docsAuth',
    'docs-auth',
    'boolean',
    'with keys configured, /docs and /openapi.json need a key too (default: open)',
  ),
  option(
    'publicBaseUrl',
    'public-base-url',
    'string',
    'base of every absolute URL given to clients (default: the request with --trust-proxy, else the listening address)',
    'url',
  ),
  option(
    'trustProxy',
    'trust-proxy',
    'boolean',
    'believe X-Forwarded-Host/-Proto/-For from a reverse proxy in front of the server (default off)',
  ),
  option(
    'webhookAllow',
    'webhook-allow',
    'list',
    'internal webhook targets to allow anyway: CIDR, address or host name; repeatable (default: public only)',
    'cidr|host',
  ),
  option(
    'logLevel',
    'log-level',
    'string',
    'fatal|error|warn|info|debug|trace|silent (default info)',
    'level',
  ),
  option(
    'logPrompts',
    'log-prompts',
    'boolean',
    'log prompt text at info level (default on; --no-log-prompts)',
  ),
  option('bodyLimitBytes', 'body-limit', 'bytes', 'largest request body (default 1mb)', 'size'),
  option('limits.maxPixels', 'max-pixels', 'integer', 'largest width × height (default 4194304)', 'n'),
  option('limits.maxSteps', 'max-steps', 'integer', 'most sampling steps per image (default 150)', 'n'),
  option('limits.maxImages', 'max-images', 'integer', 'most images per request (default 8)', 'n'),
  option(
    'rateLimit.store',
    'rate-limit-store',
    'string',
    'where per-key request counts live: memory or redis (default memory)',
    'memory|redis',
  ),
  option('rateLimit.redisUrl', 'rate-limit-redis', 'string', 'Redis URL for --rate-limit-store redis', 'url'),
  option('maxAttempts', 'max-attempts', 'integer', 'runs per job before it fails for good (default 3)', 'n'),
  option(
    'graceSeconds',
    'grace',
    'duration',
    'on SIGTERM, how long running jobs may finish before they are requeued (default 30s)',
    'time',
  ),
  option(
    'previewEvery',
    'preview-every',
    'integer',
    'low-res preview every k steps on event streams; 0 = none',
    'k',
  ),
  option(
    'device',
    'device',
    'string',
    'where in-process models run: cpu, cuda or webgpu (default cpu; checked at startup)',
    'cpu|cuda|webgpu',
  ),
  option('modelMemoryBytes', 'model-memory', 'bytes', 'memory budget of loaded models; 0 = no limit', 'size'),
  option(
    'comfyui.urls',
    'comfyui',
    'list',
    'ComfyUI server that runs the comfyui model entries (http://host:8188); repeatable',
    'url',
  ),
]

/** The config file is named by `--config FILE` or this variable. */
export const CONFIG_FILE_ENV = 'PIGMENT_CONFIG'
