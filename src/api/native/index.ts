/**
 * The native REST API under `/api`: routes only. Shapes are checked by `schema.ts` (strict: no coercion),
 * mapping is in `translate.ts`, and the shared generation steps in `shared/generations.ts`.
 * @module
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { ERROR_CODES, type ErrorCode, errors, PigmentError } from '../../core/errors.js'
import { type Job, TERMINAL_STATES } from '../../core/job.js'
import { authHook, callerOf, mayAccess, requireAdmin } from '../auth.js'
import type { ApiDeps } from '../shared/deps.js'
import { awaitJob, submitGeneration } from '../shared/generations.js'
import { idempotencyOf } from '../shared/idempotency.js'
import { useJsonBodyParser } from '../shared/json-body.js'
import { publicBase } from '../shared/public-base.js'
import { parseLastEventId } from '../shared/sse.js'
import { strictValidatorCompiler } from '../shared/validator.js'
import { callerRoutes } from './caller-routes.js'
import { streamJobEvents } from './events.js'
import {
  AssetSchema,
  AsyncHeaders,
  ErrorSchema,
  GenerationBody,
  IdParams,
  JobListQuery,
  JobListSchema,
  JobSchema,
  ModelIdParams,
  ModelListSchema,
  WarmupSchema,
} from './schema.js'
import { toJobFilter, toSubmission } from './translate.js'
import { assetView, jobView } from './views.js'

const errorResponses = { '4xx': ErrorSchema, '5xx': ErrorSchema }
const tags = ['native']

export async function nativeApi(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  app.setValidatorCompiler(strictValidatorCompiler)
  // Only JSON bodies: without this, Fastify's built-in text/plain parser would accept a string body.
  app.removeContentTypeParser('text/plain')
  // An empty JSON body (a client that always sends the header) is no body, e.g. on POST …/cancel.
  useJsonBodyParser(app, { emptyIsNoBody: true })
  app.addHook('onRequest', authHook(deps.authenticate))

  app.post<{ Body: GenerationBody; Headers: { prefer?: string } }>(
    '/api/generations',
    {
      schema: {
        tags,
        summary: 'Generate images (sync by default; async with "async": true or Prefer: respond-async)',
        body: GenerationBody,
        headers: AsyncHeaders,
        response: { 200: JobSchema, 202: JobSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request)
      const submission = toSubmission(request.body, request.headers.prefer)
      const job = await submitGeneration(deps, submission.input, {
        origin: { keyId: caller.keyId, source: 'native' },
        priority: submission.priority,
        idempotency: idempotencyOf(request),
      })
      logSubmission(deps, request, job)
      const base = publicBase(deps, request)
      const done = submission.async ? job : await awaitJob(deps, job)
      if (done.state === 'succeeded') return jobView(deps, done, base)
      if (done.state === 'failed' || done.state === 'canceled') throw jobError(done)
      void reply.code(202).header('location', `/api/jobs/${job.id}`)
      return jobView(deps, done, base)
    },
  )

  app.get<{ Querystring: JobListQuery }>(
    '/api/jobs',
    {
      schema: {
        tags,
        summary: 'List jobs (newest first), filtered by state, model and creation time',
        querystring: JobListQuery,
        response: { 200: JobListSchema, ...errorResponses },
      },
    },
    async (request) => {
      const caller = callerOf(request)
      const filter = toJobFilter(request.query, caller.role === 'admin' ? undefined : caller.keyId)
      const page = await deps.jobs.list(filter, {
        limit: request.query.limit,
        cursor: request.query.cursor ?? null,
      })
      const base = publicBase(deps, request)
      return {
        jobs: await Promise.all(page.jobs.map((job) => jobView(deps, job, base))),
        nextCursor: page.nextCursor,
      }
    },
  )

  app.get<{ Params: IdParams }>(
    '/api/jobs/:id',
    {
      schema: { tags, summary: 'One job', params: IdParams, response: { 200: JobSchema, ...errorResponses } },
    },
    async (request) => jobView(deps, await visibleJob(deps, request), publicBase(deps, request)),
  )

  app.post<{ Params: IdParams }>(
    '/api/jobs/:id/cancel',
    {
      schema: {
        tags,
        summary: 'Cancel a queued job at once, or a running one at its next step',
        params: IdParams,
        response: { 200: JobSchema, 202: JobSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const job = await visibleJob(deps, request)
      if (TERMINAL_STATES.has(job.state)) {
        throw errors.CONFLICT(`job ${job.id} is already ${job.state} and cannot be canceled`, {
          details: { jobId: job.id },
        })
      }
      const canceled = (await deps.jobs.cancel(job.id)) ?? job
      request.log.info({ jobId: job.id, state: canceled.state }, 'job cancel requested')
      if (canceled.state !== 'canceled') void reply.code(202)
      return jobView(deps, canceled, publicBase(deps, request))
    },
  )

  app.get<{ Params: IdParams; Querystring: { lastEventId?: string } }>(
    '/api/jobs/:id/events',
    {
      schema: {
        tags,
        summary: 'Server-Sent Events: queue position, step progress, previews, final result or error',
        params: IdParams,
        response: errorResponses,
      },
    },
    async (request, reply) => {
      const job = await visibleJob(deps, request)
      const afterSeq = parseLastEventId(request.headers['last-event-id'] ?? request.query.lastEventId)
      await streamJobEvents(deps, request, reply, job, { afterSeq, base: publicBase(deps, request) })
    },
  )

  app.get<{ Params: IdParams }>(
    '/api/assets/:id',
    {
      schema: {
        tags,
        summary: 'One image record',
        params: IdParams,
        response: { 200: AssetSchema, ...errorResponses },
      },
    },
    async (request) => assetView(deps, await visibleAsset(deps, request), publicBase(deps, request)),
  )

  app.get<{ Params: IdParams }>(
    '/api/assets/:id/file',
    { schema: { tags, summary: 'The image bytes', params: IdParams, response: errorResponses } },
    async (request, reply) => {
      const asset = await visibleAsset(deps, request)
      const bytes = await deps.storage.get(asset.key)
      if (bytes === null) throw errors.GONE(`the image of asset ${asset.id} is no longer stored`)
      return reply
        .type(`image/${asset.format}`)
        .header('etag', `"${asset.sha256}"`)
        .header('cache-control', 'private, max-age=3600')
        .send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength))
    },
  )

  app.delete<{ Params: IdParams }>(
    '/api/assets/:id',
    { schema: { tags, summary: 'Delete an image now', params: IdParams, response: errorResponses } },
    async (request, reply) => {
      const asset = await visibleAsset(deps, request)
      await deps.assets.delete(asset.id)
      request.log.info({ assetId: asset.id, jobId: asset.jobId }, 'asset deleted')
      return reply.code(204).send()
    },
  )

  app.get(
    '/api/models',
    { schema: { tags, summary: 'Configured models', response: { 200: ModelListSchema, ...errorResponses } } },
    async () => ({ models: [...(await deps.models.list())] }),
  )

  app.post<{ Params: ModelIdParams }>(
    '/api/models/:id/warmup',
    {
      schema: {
        tags,
        summary: 'Load a model ahead of its first job',
        params: ModelIdParams,
        response: { 200: WarmupSchema, ...errorResponses },
      },
    },
    async (request) => {
      requireAdmin(callerOf(request), 'warming up a model')
      const { model, seconds } = await deps.models.warmup(request.params.id)
      request.log.info({ model, seconds }, 'model warmed up')
      return { model, loaded: true, seconds }
    },
  )

  await callerRoutes(app, deps)
}

async function visibleJob(deps: ApiDeps, request: FastifyRequest): Promise<Job> {
  const { id } = request.params as IdParams
  const job = await deps.jobs.get(id)
  if (job === null || !mayAccess(callerOf(request), job.ownerKeyId))
    throw errors.JOB_NOT_FOUND(`no job ${id}`)
  return job
}

async function visibleAsset(deps: ApiDeps, request: FastifyRequest) {
  const { id } = request.params as IdParams
  const asset = await deps.assets.get(id)
  if (asset === null || !mayAccess(callerOf(request), asset.ownerKeyId)) {
    throw errors.ASSET_NOT_FOUND(`no asset ${id}`)
  }
  if (asset.expiresAt !== null && asset.expiresAt.getTime() <= Date.now()) {
    throw errors.GONE(`asset ${id} expired at ${asset.expiresAt.toISOString()}`)
  }
  return asset
}

/** A failed or canceled sync job answers with its own error code and status. */
function jobError(job: Job): PigmentError {
  const details = { jobId: job.id }
  if (job.state === 'canceled') return errors.JOB_CANCELED(`job ${job.id} was canceled`, { details })
  const code = job.error?.code
  const known = code !== undefined && (ERROR_CODES as readonly string[]).includes(code)
  const message = job.error?.message ?? `job ${job.id} failed`
  return new PigmentError(known ? (code as ErrorCode) : 'INTERNAL', message, { details })
}

function logSubmission(deps: ApiDeps, request: FastifyRequest, job: Job): void {
  const { request: settings } = job
  request.log.info(
    {
      jobId: job.id,
      model: settings.model,
      size: `${settings.width}x${settings.height}`,
      steps: settings.steps,
      n: settings.n,
      ...(deps.config.logPrompts ? { prompt: settings.prompt } : {}),
    },
    'job queued',
  )
}
