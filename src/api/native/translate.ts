/**
 * Pure mapping between the native API's JSON and Pigment's canonical types. No Fastify, no I/O: the routes
 * in `index.ts` fetch what is needed and call these.
 * @module
 */
import { errors } from '../../core/errors.js'
import type { GenerationInput } from '../../core/generation-request.js'
import type { Asset, Job, JobState } from '../../core/job.js'
import type { JobFilter } from '../../jobs/job-queue.js'
import type { AssetBody, GenerationBody, ImageLink, JobBody, JobListQuery } from './schema.js'

const JOB_STATES: readonly JobState[] = ['queued', 'running', 'succeeded', 'failed', 'canceled', 'expired']

export interface NativeSubmission {
  readonly input: GenerationInput
  readonly priority: number
  readonly async: boolean
}

/** The body (already shape-checked) and the Prefer header → what canonicalization needs. */
export function toSubmission(body: GenerationBody, preferHeader: string | undefined): NativeSubmission {
  const output = {
    ...(body.outputFormat === undefined ? {} : { format: body.outputFormat }),
    ...(body.quality === undefined ? {} : { quality: body.quality }),
  }
  const input: GenerationInput = {
    prompt: body.prompt,
    ...definedOnly({
      negativePrompt: body.negativePrompt,
      model: body.model,
      width: body.width,
      height: body.height,
      steps: body.steps,
      cfg: body.cfg,
      sampler: body.sampler,
      scheduler: body.scheduler,
      seed: body.seed,
      n: body.n,
    }),
    ...(Object.keys(output).length > 0 ? { output } : {}),
  }
  return { input, priority: body.priority ?? 0, async: body.async ?? prefersAsync(preferHeader) }
}

/** RFC 7240: `Prefer: respond-async` (possibly among other preferences). */
export function prefersAsync(preferHeader: string | undefined): boolean {
  if (preferHeader === undefined) return false
  return preferHeader
    .split(',')
    .map((preference) => preference.split(';')[0].trim().toLowerCase())
    .includes('respond-async')
}

function definedOnly<T extends Record<string, unknown>>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as Partial<T>
}

export function toImageLink(asset: Asset, url: string, fileUrl: string): ImageLink {
  return {
    assetId: asset.id,
    url,
    fileUrl,
    seed: asset.seed,
    width: asset.width,
    height: asset.height,
    format: asset.format,
  }
}

export function toJobBody(job: Job, images: readonly ImageLink[], queuePosition: number | null): JobBody {
  const request = job.request
  return {
    id: job.id,
    state: job.state,
    queuePosition: job.state === 'queued' ? queuePosition : null,
    request: {
      prompt: request.prompt,
      negativePrompt: request.negativePrompt,
      model: request.model,
      width: request.width,
      height: request.height,
      steps: request.steps,
      cfg: request.cfg,
      sampler: request.sampler,
      scheduler: request.scheduler,
      seed: request.seed,
      seedWasRandom: request.seedWasRandom,
      n: request.n,
      outputFormat: request.output.format,
      quality: request.output.quality,
      priority: job.priority,
    },
    attempts: job.attempts,
    progress: job.progress === null ? null : { ...job.progress },
    error: job.error === null ? null : { code: job.error.code, message: job.error.message },
    images: [...images],
    createdAt: job.createdAt.toISOString(),
    startedAt: job.startedAt?.toISOString() ?? null,
    finishedAt: job.finishedAt?.toISOString() ?? null,
    expiresAt: job.expiresAt?.toISOString() ?? null,
  }
}

export function toAssetBody(asset: Asset, url: string, fileUrl: string): AssetBody {
  return {
    id: asset.id,
    jobId: asset.jobId,
    index: asset.index,
    model: asset.model,
    seed: asset.seed,
    width: asset.width,
    height: asset.height,
    format: asset.format,
    bytes: asset.bytes,
    sha256: asset.sha256,
    parameters: { ...asset.parameters },
    url,
    fileUrl,
    createdAt: asset.createdAt.toISOString(),
    expiresAt: asset.expiresAt?.toISOString() ?? null,
  }
}

/** Query string of GET /api/jobs → the queue's filter; unknown states are a 400 on `state`. */
export function toJobFilter(query: JobListQuery, ownerKeyId?: string | null): JobFilter {
  const states = query.state?.split(',') ?? []
  const unknown = states.find((state) => !(JOB_STATES as readonly string[]).includes(state))
  if (unknown !== undefined) {
    throw errors.VALIDATION_FAILED(`state: unknown state "${unknown}"; valid: ${JOB_STATES.join(', ')}`, {
      field: 'state',
    })
  }
  return {
    ...(states.length > 0 ? { state: states as JobState[] } : {}),
    ...(query.model === undefined ? {} : { model: query.model }),
    ...(query.createdAfter === undefined
      ? {}
      : { createdAfter: parseDate(query.createdAfter, 'createdAfter') }),
    ...(query.createdBefore === undefined
      ? {}
      : { createdBefore: parseDate(query.createdBefore, 'createdBefore') }),
    ...(ownerKeyId === undefined ? {} : { ownerKeyId }),
  }
}

function parseDate(text: string, field: string): Date {
  const date = new Date(text)
  if (Number.isNaN(date.getTime())) {
    throw errors.VALIDATION_FAILED(`${field}: expected an ISO 8601 date-time, got "${text}"`, { field })
  }
  return date
}
