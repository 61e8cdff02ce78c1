/**
 * One claimed job, start to finish: get the pipeline, generate with progress and abort, encode and store
 * each image with its asset record, then complete. Every way out ends in exactly one transition:
 * complete, fail (retryable or not), requeue (worker stopping), acknowledgeCancel, or none when the
 * lease was lost (someone else owns the job now). Images of a run that does not complete are deleted.
 * @module
 */
import { createHash } from 'node:crypto'
import { errors, isPigmentError, type PigmentError } from '../core/errors.js'
import { newId } from '../core/ids.js'
import type { Asset, Job } from '../core/job.js'
import type { AssetsRepo } from '../db/assets-repo.js'
import { isDatabaseOutage } from '../db/outage.js'
import type { ClaimedJob, JobConsumer } from '../jobs/job-queue.js'
import type { GenerationParameters } from '../pipelines/encode/generation-parameters.js'
import type { EncodeOptions } from '../pipelines/encode/index.js'
import { NATIVE_SIZE_KEY, RESIZE_KEY } from '../pipelines/encode/index.js'
import { RESIZE_KERNEL } from '../pipelines/native-size.js'
import type { PipelineProgress, RawImage } from '../pipelines/pipeline.js'
import { assetKey } from '../storage/blob-key.js'
import type { BlobStore } from '../storage/blob-store.js'
import type { PipelineSource } from './model-cache.js'
import { createProgressThrottle } from './progress-throttle.js'

export type ImageEncoder = (raw: RawImage, options: EncodeOptions) => Promise<Uint8Array>

/** What a worker logs through; pino's logger fits. */
export interface WorkerLogger {
  info(fields: object, message: string): void
  warn(fields: object, message: string): void
  error(fields: object, message: string): void
}

export interface RunJobDeps {
  readonly queue: JobConsumer
  readonly store: BlobStore
  readonly assets: Pick<AssetsRepo, 'create' | 'deleteMany' | 'setExpiryForJob' | 'listByJob'>
  readonly pipelines: PipelineSource
  readonly encode: ImageEncoder
  readonly clock: () => number
  /** For the assets' provisional expiry, until the job's own is known. */
  readonly retentionMs: number
  readonly progressIntervalMs: number
  readonly heartbeatMs: number
  /** Ask the pipeline for a preview every k steps (0 = none). */
  readonly previewEvery: number
  readonly logger: WorkerLogger
  /**
   * Told about a progress or heartbeat write that failed; true when the failure belongs to an outage
   * already reported (the worker's outage gate), so it is not logged once per write.
   */
  readonly outage?: (error: unknown) => boolean
}

export type JobOutcome = 'succeeded' | 'failed' | 'requeued' | 'canceled' | 'lease-lost'

const CONTENT_TYPES = { png: 'image/png', jpeg: 'image/jpeg', webp: 'image/webp' } as const
const EXTENSIONS = { png: 'png', jpeg: 'jpg', webp: 'webp' } as const
// Assets of a run that crashed before completing have no job to expire them; this margin past the
// retention lets the sweeper collect them without ever beating a finished job's own expiry.
const ORPHAN_MARGIN_MS = 60 * 60 * 1000

function parametersOf(job: Job, image: RawImage): GenerationParameters {
  const r = job.request
  return {
    prompt: r.prompt,
    negativePrompt: r.negativePrompt,
    steps: r.steps,
    sampler: r.sampler,
    scheduler: r.scheduler,
    cfg: r.cfg,
    seed: image.seed,
    width: image.width,
    height: image.height,
    model: r.model,
    ...(image.resizedFrom === undefined
      ? {}
      : {
          extra: {
            [NATIVE_SIZE_KEY]: `${image.resizedFrom.width}x${image.resizedFrom.height}`,
            [RESIZE_KEY]: RESIZE_KERNEL,
          },
        }),
  }
}

/** Runs one claimed job. `stop` aborts it for shutdown (the job goes back to the queue). */
export async function runJob(claimed: ClaimedJob, stop: AbortSignal, deps: RunJobDeps): Promise<JobOutcome> {
  const { job, lease } = claimed
  const leaseLost = new AbortController()
  const signal = AbortSignal.any([claimed.signal, stop, leaseLost.signal])
  const onLeaseError = (error: unknown): void => {
    if (isPigmentError(error, 'JOB_LEASE_LOST')) leaseLost.abort(error)
    else if (deps.outage?.(error) === true) return
    else deps.logger.warn({ jobId: job.id, err: error }, 'job progress or heartbeat not recorded')
  }
  const heartbeat = setInterval(() => {
    deps.queue.heartbeat(job.id, lease).catch(onLeaseError)
  }, deps.heartbeatMs)
  heartbeat.unref()
  const throttle = createProgressThrottle({
    intervalMs: deps.progressIntervalMs,
    clock: deps.clock,
    send: (progress) => sendProgress(deps, claimed, progress),
    onError: onLeaseError,
  })
  const stored: Asset[] = []
  let completing = false
  let done: Job
  try {
    const images = await generate(claimed, signal, deps, throttle.push)
    for (const [index, image] of images.entries()) {
      signal.throwIfAborted()
      stored.push(await storeImage(job, index, image, deps))
    }
    signal.throwIfAborted()
    await throttle.settle()
    completing = true
    done = await deps.queue.complete(
      job.id,
      lease,
      stored.map((a) => a.id),
    )
  } catch (error) {
    await throttle.settle()
    clearInterval(heartbeat)
    // A connection lost while completing leaves it unknown whether the job now lists these images: they
    // stay, with their orphan expiry, for the retention sweep, rather than risk a succeeded job whose images
    // were deleted. Any other failure rolled the completion back, so they are the run's own to delete.
    if (completing && isDatabaseOutage(error)) {
      deps.logger.warn({ jobId: job.id }, 'completion not confirmed; its images are left to the sweep')
    } else {
      await discard(stored, deps, job.id)
    }
    return await settleFailure(claimed, { stop, leaseLost: leaseLost.signal }, error, deps)
  }
  clearInterval(heartbeat)
  await tidyAfterCompletion(done, deps)
  return 'succeeded'
}

/**
 * The job is done and lists its images: align their expiry with the job's and delete what earlier runs of
 * it left behind (a run whose own cleanup failed, e.g. while the database was down). Best effort: what
 * stays has its orphan expiry and goes with the retention sweep.
 */
async function tidyAfterCompletion(done: Job, deps: RunJobDeps): Promise<void> {
  try {
    await deps.assets.setExpiryForJob(done.id, done.expiresAt)
    const own = new Set(done.assetIds)
    const leftovers = (await deps.assets.listByJob(done.id)).filter((asset) => !own.has(asset.id))
    if (leftovers.length === 0) return
    await Promise.all(leftovers.map((asset) => deps.store.delete(asset.key)))
    await deps.assets.deleteMany(leftovers.map((asset) => asset.id))
    deps.logger.info({ jobId: done.id, removed: leftovers.length }, 'removed images of earlier runs')
  } catch (error) {
    deps.logger.warn({ jobId: done.id, err: error }, 'could not tidy the images of a finished job')
  }
}

async function generate(
  claimed: ClaimedJob,
  signal: AbortSignal,
  deps: RunJobDeps,
  onProgress: (progress: PipelineProgress) => void,
): Promise<RawImage[]> {
  const handle = await deps.pipelines.acquire(claimed.job.request.model)
  try {
    signal.throwIfAborted()
    return await handle.pipeline.generate(claimed.job.request, {
      signal,
      onProgress,
      previewEvery: deps.previewEvery,
      allowDownscaleOnOom: claimed.job.request.allowDownscaleOnOom,
    })
  } finally {
    handle.release()
  }
}

async function sendProgress(deps: RunJobDeps, claimed: ClaimedJob, p: PipelineProgress): Promise<void> {
  const progress = { image: p.image, images: p.images, step: p.step, steps: p.steps }
  let previewPng: string | undefined
  if (p.preview !== undefined) {
    const raw = { ...p.preview, seed: 0 }
    previewPng = Buffer.from(await deps.encode(raw, { format: 'png' })).toString('base64')
  }
  await deps.queue.progress(
    claimed.job.id,
    claimed.lease,
    progress,
    previewPng === undefined ? {} : { previewPng },
  )
}

async function storeImage(job: Job, index: number, image: RawImage, deps: RunJobDeps): Promise<Asset> {
  const { format, quality } = job.request.output
  const parameters = parametersOf(job, image)
  const bytes = await deps.encode(image, { format, quality, parameters })
  const now = deps.clock()
  const key = assetKey(job.id, index, EXTENSIONS[format], new Date(now), job.attempts)
  await deps.store.put(key, bytes, { contentType: CONTENT_TYPES[format] })
  const record = {
    id: newId(now),
    jobId: job.id,
    ownerKeyId: job.ownerKeyId,
    key,
    index,
    model: job.request.model,
    seed: image.seed,
    width: image.width,
    height: image.height,
    format,
    bytes: bytes.byteLength,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    parameters: { ...parameters },
    createdAt: new Date(now),
    expiresAt: new Date(now + deps.retentionMs + ORPHAN_MARGIN_MS),
  }
  try {
    return await deps.assets.create(record)
  } catch (error) {
    // without a record nothing would ever find these bytes again
    await deps.store.delete(key).catch((err: unknown) => {
      deps.logger.warn({ jobId: job.id, key, err }, 'could not delete an image whose record was not written')
    })
    throw error
  }
}

/** Removes the images and records of a run that will not complete; failures are logged, not thrown. */
async function discard(stored: readonly Asset[], deps: RunJobDeps, jobId: string): Promise<void> {
  if (stored.length === 0) return
  try {
    await Promise.all(stored.map((asset) => deps.store.delete(asset.key)))
    await deps.assets.deleteMany(stored.map((asset) => asset.id))
  } catch (error) {
    deps.logger.warn({ jobId, err: error }, 'could not delete the images of an unfinished run')
  }
}

function asJobError(error: unknown): PigmentError {
  if (isPigmentError(error)) return error
  const message = error instanceof Error ? error.message : String(error)
  return errors.INTERNAL(message, { cause: error })
}

async function settleFailure(
  claimed: ClaimedJob,
  signals: { readonly stop: AbortSignal; readonly leaseLost: AbortSignal },
  error: unknown,
  deps: RunJobDeps,
): Promise<JobOutcome> {
  const { job, lease } = claimed
  const log = { jobId: job.id, attempt: job.attempts }
  try {
    if (signals.leaseLost.aborted || isPigmentError(error, 'JOB_LEASE_LOST')) {
      deps.logger.warn(log, 'lost the lease on a running job; dropping it')
      return 'lease-lost'
    }
    if (claimed.signal.aborted) {
      await deps.queue.acknowledgeCancel(job.id, lease)
      deps.logger.info(log, 'job canceled while running')
      return 'canceled'
    }
    if (signals.stop.aborted) {
      const after = await deps.queue.requeue(job.id, lease)
      deps.logger.info(log, 'worker stopping; job requeued')
      return after.state === 'canceled' ? 'canceled' : 'requeued'
    }
    const jobError = asJobError(error)
    // catalog errors say whether a retry can help; anything else might be transient, so it gets retries
    const retryable = isPigmentError(error) ? error.retryable : true
    const after = await deps.queue.fail(
      job.id,
      lease,
      { code: jobError.code, message: jobError.message },
      { retryable },
    )
    const level = jobError.code === 'INTERNAL' ? 'error' : 'warn'
    deps.logger[level]({ ...log, code: jobError.code, err: error, state: after.state }, 'job run failed')
    return after.state === 'queued' ? 'requeued' : after.state === 'canceled' ? 'canceled' : 'failed'
  } catch (transitionError) {
    if (isPigmentError(transitionError, 'JOB_LEASE_LOST')) return 'lease-lost'
    throw transitionError
  }
}
