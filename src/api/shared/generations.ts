/**
 * The steps every dialect takes to make images, so each dialect only translates: resolve the model,
 * canonicalize against its manifest and the server limits, enqueue; wait a bounded time; link the images.
 * @module
 */
import { errors } from '../../core/errors.js'
import type { GenerationInput, RequestOrigin } from '../../core/generation-request.js'
import type { Asset, Job } from '../../core/job.js'
import { resolveSampler } from '../../engine/sampler-names.js'
import { isSchedulerName, SCHEDULER_NAMES } from '../../engine/schedules/index.js'
import { canonicalize } from '../../jobs/canonicalize.js'
import type { ApiDeps } from './deps.js'
import { type IdempotencyClaim, submitOnce } from './idempotency.js'
import { IdempotencyStore } from './idempotency-store.js'

export interface SubmitOptions {
  readonly origin: RequestOrigin
  /** The request's Idempotency-Key (`idempotencyOf(request)`): one job per key and API key. */
  readonly idempotency?: IdempotencyClaim | undefined
  readonly priority?: number
  readonly allowDownscaleOnOom?: boolean
}

function resolveScheduler(name: string): string {
  const key = name.trim().toLowerCase()
  if (!isSchedulerName(key)) {
    throw new RangeError(`unknown scheduler "${name}"; valid schedulers: ${SCHEDULER_NAMES.join(', ')}`)
  }
  return key
}

/**
 * Canonicalizes and enqueues; throws 4xx catalog errors for bad values, QUEUE_FULL, or UNAVAILABLE. With an
 * Idempotency-Key already used by the same API key for the same request, it returns that request's job
 * instead (`isReplayed(job)`), enqueuing and charging nothing.
 */
export async function submitGeneration(
  deps: Pick<ApiDeps, 'config' | 'jobs' | 'models' | 'state' | 'records'>,
  input: GenerationInput,
  options: SubmitOptions,
): Promise<Job> {
  if (!deps.state.accepting) {
    throw errors.UNAVAILABLE('the server is shutting down and takes no new work', { retryAfterSeconds: 5 })
  }
  const model = await deps.models.profile(input.model)
  await deps.models.assertAvailable?.(model.name)
  const request = canonicalize(input, {
    model,
    limits: deps.config.limits,
    origin: options.origin,
    ...(options.priority === undefined ? {} : { priority: options.priority }),
    ...(options.allowDownscaleOnOom === undefined
      ? {}
      : { allowDownscaleOnOom: options.allowDownscaleOnOom }),
    resolveSampler,
    resolveScheduler,
  })
  const enqueue = () => deps.jobs.enqueue(request, { maxAttempts: deps.config.maxAttempts })
  // Route tests on fakes have no records database, and so no idempotency.
  if (options.idempotency === undefined || deps.records === undefined) return enqueue()
  return submitOnce(
    {
      store: new IdempotencyStore(deps.records.db),
      scope: options.origin.keyId ?? '',
      claim: options.idempotency,
      keepMs: Math.max(1, deps.config.retentionSeconds) * 1000,
      get: (id) => deps.jobs.get(id),
    },
    enqueue,
  )
}

/** Waits for the job to finish, at most the configured sync timeout; returns its latest state either way. */
export async function awaitJob(deps: Pick<ApiDeps, 'config' | 'jobs'>, job: Job, timeoutSeconds?: number) {
  const timeoutMs = Math.round((timeoutSeconds ?? deps.config.syncTimeoutSeconds) * 1000)
  return (await deps.jobs.waitUntilFinished(job.id, timeoutMs)) ?? job
}

export interface LinkedAsset {
  readonly asset: Asset
  /** Signed (local) or presigned (S3) URL, valid for `storage.urlTtlSeconds`. */
  readonly url: string
}

/** The job's images with URLs anyone holding them can fetch until they expire. */
export async function linkAssets(
  deps: Pick<ApiDeps, 'config' | 'assets' | 'storage'>,
  job: Job,
): Promise<LinkedAsset[]> {
  // An expired job's images are gone, or about to be: the sweeper deletes them right after expiring it.
  if (job.assetIds.length === 0 || job.state === 'expired') return []
  const now = Date.now()
  const assets = (await deps.assets.listForJob(job)).filter(
    (asset) => asset.expiresAt === null || asset.expiresAt.getTime() > now,
  )
  const ttl = deps.config.storage.urlTtlSeconds
  return Promise.all(assets.map(async (asset) => ({ asset, url: await deps.storage.url(asset.key, ttl) })))
}
