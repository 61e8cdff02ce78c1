/**
 * Segmind's Chroma API (seeds `001_…`, `002_…`): `POST /v1/{model}` answers with the image (or base64 JSON),
 * `POST /v2/{model}` queues, `GET /v2/requests/{id}/status` and `GET /v2/requests/{id}` poll. Routes only;
 * mapping is in `translate.ts`. Every response carries `x-remaining-credits`; errors are `{error}` with the
 * statuses Segmind documents.
 * @module
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { errors } from '../../core/errors.js'
import type { Job } from '../../core/job.js'
import { authHook, type Caller, callerOf, mayAccess } from '../auth.js'
import {
  contentTypeOf,
  dialectErrorHandler,
  dropNullFields,
  generateAndWait,
  imageBytes,
  requestedModel,
} from '../dialect-kit.js'
import type { ApiDeps } from '../shared/deps.js'
import { linkAssets, submitGeneration } from '../shared/generations.js'
import { idempotencyOf } from '../shared/idempotency.js'
import { publicBase } from '../shared/public-base.js'
import { strictValidatorCompiler } from '../shared/validator.js'
import {
  Base64Body,
  ChromaBody,
  ErrorBody,
  ModelParams,
  RequestParams,
  ResultBody,
  StatusBody,
  SubmitBody,
} from './schema.js'
import {
  httpStatusOf,
  toResultBody,
  toSegmindHttpStatus,
  toStatusBody,
  toSubmission,
  toSubmitBody,
  UNLIMITED_CREDITS,
} from './translate.js'

const tags = ['segmind']
const errorResponses = { '4xx': ErrorBody, '5xx': ErrorBody }

export async function segmindApi(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  /** v2 requests that asked for base64 output; forgotten with the job at the end of its retention. */
  const base64Requests = new Set<string>()
  app.setValidatorCompiler(strictValidatorCompiler)
  app.setErrorHandler(
    dialectErrorHandler(
      deps,
      (error) => ({ status: toSegmindHttpStatus(error), body: { error: error.message } }),
      { n: 'samples', sampler: 'sampler_name', quality: 'image_quality', negativePrompt: 'negative_prompt' },
    ),
  )
  app.addHook('onRequest', authHook(deps.authenticate))
  app.addHook('preValidation', dropNullFields)
  app.addHook('onSend', async (request, reply) => {
    const caller = knownCaller(request)
    // Read after this request's own reservation, so the header is the balance the client has left now.
    const remaining =
      caller === undefined || deps.accounts === undefined
        ? caller?.remainingCredits
        : await deps.accounts.remainingCredits(caller.keyId)
    reply.header('x-remaining-credits', String(remaining ?? UNLIMITED_CREDITS))
  })

  app.post<{ Params: ModelParams; Body: ChromaBody }>(
    '/v1/:model',
    {
      schema: {
        tags,
        summary: 'Segmind: generate and answer with the image bytes (or base64 JSON with base64: true)',
        params: ModelParams,
        body: ChromaBody,
        response: { 200: Base64Body, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { input, base64 } = toSubmission(request.body)
      const job = await generateAndWait(
        deps,
        { ...input, model: requestedModel(request.params.model) },
        originOf(request),
      )
      const assets = await deps.assets.listForJob(job)
      const images = await Promise.all(assets.map((asset) => imageBytes(deps, asset)))
      if (images.length === 0) throw new Error(`job ${job.id} succeeded without an image`)
      if (base64) {
        const encoded = images.map((bytes) => bytes.toString('base64'))
        return { image: encoded[0], images: encoded }
      }
      return reply.type(contentTypeOf(assets[0].format)).send(images[0])
    },
  )

  app.post<{ Params: ModelParams; Body: ChromaBody }>(
    '/v2/:model',
    {
      schema: {
        tags,
        summary: 'Segmind v2: queue a request; poll status_url, then fetch response_url',
        params: ModelParams,
        body: ChromaBody,
        response: { 200: SubmitBody, ...errorResponses },
      },
    },
    async (request) => {
      const { input, base64 } = toSubmission(request.body)
      const job = await submitGeneration(
        deps,
        { ...input, model: requestedModel(request.params.model) },
        originOf(request),
      )
      if (base64) remember(base64Requests, job.id, deps.config.retentionSeconds)
      return toSubmitBody(job, publicBase(deps, request))
    },
  )

  app.get<{ Params: RequestParams }>(
    '/v2/requests/:id/status',
    {
      schema: {
        tags,
        summary: 'Segmind v2: QUEUED, PROCESSING, COMPLETED or FAILED (served as 422)',
        params: RequestParams,
        response: { 200: StatusBody, 202: StatusBody, 422: StatusBody, ...errorResponses },
      },
    },
    async (request, reply) => {
      const job = await visibleRequest(deps, request)
      const body = toStatusBody(job)
      return reply.code(body.status === 'FAILED' ? 422 : 200).send(body)
    },
  )

  app.get<{ Params: RequestParams }>(
    '/v2/requests/:id',
    {
      schema: {
        tags,
        summary: 'Segmind v2: the result (output: image URL, or base64 when asked)',
        params: RequestParams,
        response: { 200: ResultBody, 202: ResultBody, 422: ResultBody, ...errorResponses },
      },
    },
    async (request, reply) => {
      const job = await visibleRequest(deps, request)
      const outputs = job.state === 'succeeded' ? await outputsOf(deps, job, base64Requests.has(job.id)) : []
      const body = toResultBody(job, outputs)
      return reply.code(httpStatusOf(body.status)).send(body)
    },
  )
}

function originOf(request: FastifyRequest) {
  return {
    origin: { keyId: callerOf(request).keyId, source: 'segmind' },
    idempotency: idempotencyOf(request),
  }
}

/** The caller when authentication succeeded (the credits header is also sent on a 401). */
function knownCaller(request: FastifyRequest): Caller | undefined {
  try {
    return callerOf(request)
  } catch {
    return undefined
  }
}

/** Unknown, expired, and other keys' requests are all "not found", so ids do not leak. */
async function visibleRequest(deps: ApiDeps, request: FastifyRequest): Promise<Job> {
  const { id } = request.params as RequestParams
  const job = await deps.jobs.get(id)
  if (job === null || job.state === 'expired' || !mayAccess(callerOf(request), job.ownerKeyId)) {
    throw errors.JOB_NOT_FOUND(`request ${id} not found or expired`)
  }
  return job
}

async function outputsOf(deps: ApiDeps, job: Job, base64: boolean): Promise<string[]> {
  const linked = await linkAssets(deps, job)
  if (!base64) return linked.map((link) => link.url)
  return Promise.all(linked.map(async (link) => (await imageBytes(deps, link.asset)).toString('base64')))
}

function remember(ids: Set<string>, id: string, retentionSeconds: number): void {
  ids.add(id)
  // Results expire after the retention period (Segmind documents 1 hour); so does this note.
  setTimeout(() => ids.delete(id), Math.max(1, retentionSeconds) * 1000 + 60_000).unref()
}
