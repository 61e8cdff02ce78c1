/**
 * Scenario's REST API (seed `004_…`), mounted under its own prefix (`/scenario/v1`) so its `GET /models`
 * does not meet OpenAI's `GET /v1/models`. Routes only: shapes in `schema.ts`, mapping in `translate.ts` and
 * `queries.ts`, store walks in `listings.ts`, the error envelope in `errors.ts`.
 *
 * Generation is asynchronous, as on Scenario: `POST /generate/txt2img` answers at once with the queued job;
 * clients poll `GET /jobs/{jobId}` until `success`, then read `metadata.assetIds` through `GET /assets/{id}`.
 * @module
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { errors } from '../../core/errors.js'
import { type Asset, type Job, TERMINAL_STATES } from '../../core/job.js'
import { authHook, callerOf, mayAccess } from '../auth.js'
import { dialectErrorHandler, dropNullFields, requestedModel } from '../dialect-kit.js'
import type { ApiDeps } from '../shared/deps.js'
import { submitGeneration } from '../shared/generations.js'
import { idempotencyOf } from '../shared/idempotency.js'
import { strictValidatorCompiler } from '../shared/validator.js'
import { canonicalizeOnly } from './dry-run.js'
import { handleScenarioNotFound, renderScenarioError } from './errors.js'
import { listAssets, listJobs, listModels, usageReport } from './listings.js'
import { isTrue, toAssetListPlan, toJobListPlan, toModelListPlan, toUsagePlan } from './queries.js'
import {
  AssetGetQuery,
  AssetIdParams,
  AssetListQuery,
  AssetListResponse,
  AssetResponse,
  DeleteAssetsBody,
  DeleteAssetsResponse,
  DryRunResponse,
  errorResponses,
  JobActionBody,
  JobIdParams,
  JobListQuery,
  JobListResponse,
  JobResponse,
  ModelIdParams,
  ModelListQuery,
  ModelListResponse,
  ModelResponse,
  type ScenarioAsset,
  Txt2imgBody,
  Txt2imgQuery,
  Txt2imgResponse,
  UsageQuery,
  UsageResponse,
} from './schema.js'
import {
  dryRunBody,
  toGenerationInput,
  toInference,
  toScenarioAsset,
  toScenarioJob,
  toScenarioModel,
} from './translate.js'

export interface ScenarioOptions {
  readonly deps: ApiDeps
}

/** Scenario's status for a dry run: the request is valid and this is what it would cost. */
const DRY_RUN_STATUS = 269
const tags = ['scenario']

export async function scenarioDialect(app: FastifyInstance, { deps }: ScenarioOptions): Promise<void> {
  app.setValidatorCompiler(strictValidatorCompiler)
  // Only JSON bodies: without this, Fastify's built-in text/plain parser would accept a string body.
  app.removeContentTypeParser('text/plain')
  app.setErrorHandler(
    dialectErrorHandler(deps, renderScenarioError, {
      steps: 'numInferenceSteps',
      n: 'numSamples',
      cfg: 'guidance',
    }),
  )
  app.setNotFoundHandler(handleScenarioNotFound)
  app.addHook('onRequest', authHook(deps.authenticate))
  // Pigment keeps no creation date for a model; report when this server started serving it.
  const modelsSince = new Date()
  const factors = deps.config.credits.modelFactors
  const jobView = (job: Job) => toScenarioJob(job, factors)

  app.post<{ Body: Txt2imgBody; Querystring: Txt2imgQuery }>(
    '/generate/txt2img',
    {
      schema: {
        tags,
        summary: 'Queue a text-to-image generation (status 269 with its cost when ?dryRun=true)',
        body: Txt2imgBody,
        querystring: Txt2imgQuery,
        response: { 200: Txt2imgResponse, [DRY_RUN_STATUS]: DryRunResponse, ...errorResponses },
      },
      preValidation: dropNullFields,
    },
    async (request, reply) => {
      const caller = callerOf(request)
      const model = await deps.models.profile(requestedModel(request.body.modelId))
      const { input, origin } = toGenerationInput(request.body, {
        model,
        limits: deps.config.limits,
        keyId: caller.keyId,
      })
      if (isTrue(request.query.dryRun)) {
        const priced = await canonicalizeOnly(deps, input, origin)
        return reply.code(DRY_RUN_STATUS).send(dryRunBody(priced, factors))
      }
      const job = await submitGeneration(deps, input, { origin, idempotency: idempotencyOf(request) })
      request.log.info(
        { jobId: job.id, model: job.request.model, n: job.request.n, steps: job.request.steps },
        'job queued',
      )
      return { inference: toInference(job), job: jobView(job), ...dryRunBody(job.request, factors) }
    },
  )

  app.get<{ Querystring: JobListQuery }>(
    '/jobs',
    {
      schema: {
        tags,
        summary: 'List jobs, newest first',
        querystring: JobListQuery,
        response: { 200: JobListResponse, ...errorResponses },
      },
    },
    async (request) => {
      const page = await listJobs(deps, toJobListPlan(request.query, callerOf(request)))
      return {
        jobs: page.jobs.map(jobView),
        ...(page.nextToken === undefined ? {} : { nextPaginationToken: page.nextToken }),
      }
    },
  )

  app.get<{ Params: JobIdParams }>(
    '/jobs/:jobId',
    {
      schema: {
        tags,
        summary: 'One job',
        params: JobIdParams,
        response: { 200: JobResponse, ...errorResponses },
      },
    },
    async (request) => ({ job: jobView(await visibleJob(deps, request)) }),
  )

  app.post<{ Params: JobIdParams; Body: JobActionBody }>(
    '/jobs/:jobId/action',
    {
      schema: {
        tags,
        summary: 'Cancel a job: at once when queued, at its next step when running',
        params: JobIdParams,
        body: JobActionBody,
        response: { 200: JobResponse, ...errorResponses },
      },
    },
    async (request) => {
      const job = await visibleJob(deps, request)
      if (TERMINAL_STATES.has(job.state)) {
        throw errors.CONFLICT(`job ${job.id} has already ended and cannot be canceled`, {
          details: { jobId: job.id },
        })
      }
      const canceled = (await deps.jobs.cancel(job.id)) ?? job
      request.log.info({ jobId: job.id, state: canceled.state }, 'job cancel requested')
      return { job: jobView(canceled) }
    },
  )

  app.get<{ Querystring: AssetListQuery }>(
    '/assets',
    {
      schema: {
        tags,
        summary: 'List generated images, newest first (hidden results are left out)',
        querystring: AssetListQuery,
        response: { 200: AssetListResponse, ...errorResponses },
      },
    },
    async (request) => {
      const page = await listAssets(deps, toAssetListPlan(request.query, callerOf(request)))
      const assets = await Promise.all(page.entries.map(({ asset, job }) => assetView(deps, asset, job)))
      return { assets, ...(page.nextToken === undefined ? {} : { nextPaginationToken: page.nextToken }) }
    },
  )

  app.get<{ Params: AssetIdParams }>(
    '/assets/:assetId',
    {
      schema: {
        tags,
        summary: 'One image, with a signed URL',
        params: AssetIdParams,
        querystring: AssetGetQuery,
        response: { 200: AssetResponse, ...errorResponses },
      },
    },
    async (request) => {
      const asset = await visibleAsset(deps, request, request.params.assetId)
      return { asset: await assetView(deps, asset, await deps.jobs.get(asset.jobId)) }
    },
  )

  app.delete<{ Body: DeleteAssetsBody }>(
    '/assets',
    {
      schema: {
        tags,
        summary: 'Delete up to 100 images; nothing is deleted when one id is unknown',
        body: DeleteAssetsBody,
        response: { 200: DeleteAssetsResponse, ...errorResponses },
      },
    },
    async (request) => {
      const ids = [...new Set(request.body.assetIds)]
      const assets: Asset[] = []
      for (const id of ids) assets.push(await visibleAsset(deps, request, id, { allowExpired: true }))
      for (const asset of assets) await deps.assets.delete(asset.id)
      request.log.info({ assetIds: ids }, 'assets deleted')
      return {}
    },
  )

  app.get<{ Querystring: ModelListQuery }>(
    '/models',
    {
      schema: {
        tags,
        summary: "The server's models",
        querystring: ModelListQuery,
        response: { 200: ModelListResponse, ...errorResponses },
      },
    },
    async (request) => {
      const page = await listModels(deps, toModelListPlan(request.query), modelsSince)
      return {
        models: [...page.models],
        ...(page.nextToken === undefined ? {} : { nextPaginationToken: page.nextToken }),
      }
    },
  )

  app.get<{ Params: ModelIdParams }>(
    '/models/:modelId',
    {
      schema: {
        tags,
        summary: 'One model, by name, alias or "default"',
        params: ModelIdParams,
        response: { 200: ModelResponse, ...errorResponses },
      },
    },
    async (request) => {
      const { modelId } = request.params
      const profile = await deps.models.profile(requestedModel(modelId))
      const summary = (await deps.models.list()).find((model) => model.name === profile.name)
      if (summary === undefined) throw errors.MODEL_NOT_FOUND(`no model "${modelId}"`, { field: 'modelId' })
      return { model: toScenarioModel(summary, modelsSince) }
    },
  )

  app.get<{ Querystring: UsageQuery }>(
    '/usages',
    {
      schema: {
        tags,
        summary: 'Creative units and images per model and day',
        querystring: UsageQuery,
        response: { 200: UsageResponse, ...errorResponses },
      },
    },
    async (request) => {
      const plan = toUsagePlan(request.query, callerOf(request), new Date())
      // Only a server without a records database (route tests on fakes) has no usage to report.
      if (deps.accounts === undefined) throw errors.FEATURE_UNAVAILABLE('this server keeps no usage records')
      return usageReport(deps.accounts.usage, plan)
    },
  )
}

async function visibleJob(deps: ApiDeps, request: FastifyRequest): Promise<Job> {
  const { jobId } = request.params as JobIdParams
  const job = await deps.jobs.get(jobId)
  if (job === null || !mayAccess(callerOf(request), job.ownerKeyId)) {
    throw errors.JOB_NOT_FOUND(`no job ${jobId}`, { field: 'jobId' })
  }
  return job
}

async function visibleAsset(
  deps: ApiDeps,
  request: FastifyRequest,
  id: string,
  options: { readonly allowExpired?: boolean } = {},
): Promise<Asset> {
  const asset = await deps.assets.get(id)
  if (asset === null || !mayAccess(callerOf(request), asset.ownerKeyId)) {
    throw errors.ASSET_NOT_FOUND(`no asset ${id}`, { field: 'assetId' })
  }
  if (!options.allowExpired && asset.expiresAt !== null && asset.expiresAt.getTime() <= Date.now()) {
    throw errors.GONE(`asset ${id} expired at ${asset.expiresAt.toISOString()}`)
  }
  return asset
}

async function assetView(deps: ApiDeps, asset: Asset, job: Job | null): Promise<ScenarioAsset> {
  const url = await deps.storage.url(asset.key, deps.config.storage.urlTtlSeconds)
  return toScenarioAsset(asset, job, url)
}
