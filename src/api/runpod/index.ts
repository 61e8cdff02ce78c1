/**
 * The RunPod serverless worker API (seed `000_…`), so `runpod-sdk` works with `baseUrl` pointed at
 * Pigment's `/v2`. Queue mode under `/v2/{endpoint}` (run, runsync, status, status-sync, stream, cancel,
 * health, purge-queue), where the endpoint id names a model; load-balancer mode at the root (`POST /run`,
 * `/runsync`, `GET /ping`) with the worker's fields directly or in `{input}`. Routes only; mapping is in
 * `translate.ts`. Errors are the worker's `{status: "error", error}`.
 * @module
 */
import { TypeCompiler } from '@sinclair/typebox/compiler'
import type { FastifyInstance } from 'fastify'
import type { Kysely } from 'kysely'
import { errors } from '../../core/errors.js'
import { TERMINAL_STATES } from '../../core/job.js'
import { openDatabase } from '../../db/connect.js'
import type { Database } from '../../db/schema.js'
import { authHook, callerOf, requireAdmin } from '../auth.js'
import { dialectErrorHandler, dropNullFields, jobFailure } from '../dialect-kit.js'
import type { ApiDeps } from '../shared/deps.js'
import { awaitJob } from '../shared/generations.js'
import { type IdempotencyClaim, idempotencyOf, isReplayed } from '../shared/idempotency.js'
import { strictValidatorCompiler, toValidationError } from '../shared/validator.js'
import { RunPodJobStore } from './job-store.js'
import { JobWatch } from './job-watch.js'
import {
  DirectBody,
  EndpointParams,
  HealthBody,
  JobParams,
  JobStatusBody,
  PingBody,
  PurgeBody,
  QueueBody,
  StreamBody,
  WaitQuery,
  WorkerError,
  WorkerInput,
  WorkerOutput,
} from './schema.js'
import { SideJobs } from './side-jobs.js'
import { toHealth, toWorkerAction, toWorkerError, unwrapDirectBody } from './translate.js'
import { checkWebhookUrl, RUNPOD_WEBHOOK_POLICY, type WebhookPolicy } from './webhook.js'
import { WebhookTargets } from './webhook-targets.js'
import { WorkerService } from './worker-service.js'

const tags = ['runpod']
const errorResponses = { '4xx': WorkerError, '5xx': WorkerError }
/** runpod-sdk polls /stream back to back, so each call waits (up to this) for the job to end. */
const STREAM_WAIT_MS = 10_000
/** A running job stops at its next step; /cancel waits this long to report it stopped. */
const CANCEL_WAIT_MS = 5_000

/** How often the dialect reads its job state back from the database (see `job-watch.ts`). */
const SWEEP_MS = 5_000

export interface RunPodOptions {
  /** Webhook timeout and retries; RunPod's by default (tests shorten them). */
  readonly webhookPolicy?: WebhookPolicy
  /** Sweep period; tests shorten it. */
  readonly sweepMs?: number
}

export async function runpodApi(
  app: FastifyInstance,
  deps: ApiDeps,
  options: RunPodOptions = {},
): Promise<void> {
  const retentionMs = Math.max(1, deps.config.retentionSeconds) * 1000
  const records = await dialectRecords(deps)
  const webhookTargets = new WebhookTargets({ allow: deps.config.webhookAllow })
  const watch: JobWatch = new JobWatch({
    jobs: deps.jobs,
    store: new RunPodJobStore(records.db),
    render: (job) => service.status(job),
    logger: app.log,
    webhookPolicy: options.webhookPolicy ?? RUNPOD_WEBHOOK_POLICY,
    webhookTargets,
    rememberMs: retentionMs,
    sweepMs: options.sweepMs ?? SWEEP_MS,
  })
  const service = new WorkerService(deps, watch, new SideJobs(retentionMs))
  const checkInput = TypeCompiler.Compile(WorkerInput)
  const syncWaitMs = (wait: number | undefined) => wait ?? Math.round(deps.config.syncTimeoutSeconds * 1000)

  app.setValidatorCompiler(strictValidatorCompiler)
  app.setErrorHandler(
    dialectErrorHandler(deps, (error) => ({ status: error.httpStatus, body: toWorkerError(error.message) }), {
      n: 'num_images',
      cfg: 'guidance_scale',
      negativePrompt: 'negative_prompt',
    }),
  )
  const authenticate = authHook(deps.authenticate)
  // A load balancer probes /ping without credentials; every other route needs a key.
  app.addHook('onRequest', async (request) => {
    if (request.routeOptions.url !== '/ping') await authenticate(request)
  })
  app.addHook('preValidation', dropNullFields)
  app.addHook('onClose', async () => {
    await watch.close()
    await records.close()
  })
  // Resumed work renders signed links, which need the listening address: start once it is known (the
  // listen promise settles before a macrotask runs).
  app.addHook('onListen', async () => {
    setTimeout(() => watch.start(), 0).unref()
  })

  /** Starts a queue-mode request: a generation is queued and watched; a maintenance action runs now. */
  async function submit(
    endpoint: string,
    body: QueueBody,
    caller: ReturnType<typeof callerOf>,
    idempotency: IdempotencyClaim | undefined,
  ) {
    if (body.s3Config !== undefined) {
      throw errors.DIALECT_UNSUPPORTED_PARAM(
        "s3Config is not supported: images go to the server's configured storage",
        { field: 's3Config' },
      )
    }
    const webhook = body.webhook === undefined ? undefined : checkWebhookUrl(body.webhook, webhookTargets)
    const model = await service.model(endpoint)
    const started = await service.start(
      toWorkerAction(body.input),
      model,
      caller,
      body.policy?.lowPriority ? -1 : 0,
      idempotency,
    )
    // A repeated Idempotency-Key gets the first request's job, whose webhook and limits are already recorded.
    if ('job' in started && isReplayed(started.job)) return { job: started.job }
    if ('job' in started) {
      const policy = body.policy ?? {}
      await watch
        .watch(started.job, {
          ...(webhook === undefined ? {} : { webhook }),
          ...(policy.executionTimeout === undefined ? {} : { executionTimeoutMs: policy.executionTimeout }),
          ...(policy.ttl === undefined ? {} : { ttlMs: policy.ttl }),
        })
        .catch(async (error: unknown) => {
          // the client hears of a failure, so the job must not run on without its webhook and limits
          await deps.jobs.cancel(started.job.id).catch(() => null)
          throw error
        })
      return { job: started.job }
    }
    const side = service.sideJobs.record(caller.keyId, started.output, started.executionTime)
    if (webhook !== undefined) await watch.notify(webhook, side, side.id)
    return { side }
  }

  const queueSchema = (summary: string, extra: object = {}) => ({
    tags,
    summary,
    params: EndpointParams,
    body: QueueBody,
    response: { 200: JobStatusBody, ...errorResponses },
    ...extra,
  })

  app.post<{ Params: EndpointParams; Body: QueueBody }>(
    '/v2/:endpoint/run',
    { schema: queueSchema('RunPod: queue a job; answers {id, status: "IN_QUEUE"}') },
    async (request) => {
      const started = await submit(
        request.params.endpoint,
        request.body,
        callerOf(request),
        idempotencyOf(request),
      )
      if ('side' in started) return started.side
      return { id: started.job.id, status: 'IN_QUEUE' as const }
    },
  )

  app.post<{ Params: EndpointParams; Body: QueueBody; Querystring: WaitQuery }>(
    '/v2/:endpoint/runsync',
    {
      schema: queueSchema('RunPod: run a job and wait (?wait=ms) for its result', { querystring: WaitQuery }),
    },
    async (request) => {
      const started = await submit(
        request.params.endpoint,
        request.body,
        callerOf(request),
        idempotencyOf(request),
      )
      if ('side' in started) return started.side
      return service.statusAfter(started.job, syncWaitMs(request.query.wait))
    },
  )

  const jobSchema = (summary: string, extra: object = {}) => ({
    tags,
    summary,
    params: JobParams,
    response: { 200: JobStatusBody, ...errorResponses },
    ...extra,
  })

  app.get<{ Params: JobParams }>(
    '/v2/:endpoint/status/:id',
    { schema: jobSchema('RunPod: a job’s status, with its output once COMPLETED') },
    async (request) => {
      await service.model(request.params.endpoint)
      const found = await service.find(request.params.id, callerOf(request))
      return 'side' in found ? found.side : service.status(found.job)
    },
  )

  app.get<{ Params: JobParams; Querystring: WaitQuery }>(
    '/v2/:endpoint/status-sync/:id',
    {
      schema: jobSchema('RunPod: wait (?wait=ms) for a job to end, then its status', {
        querystring: WaitQuery,
      }),
    },
    async (request) => {
      await service.model(request.params.endpoint)
      const found = await service.find(request.params.id, callerOf(request))
      return 'side' in found ? found.side : service.statusAfter(found.job, syncWaitMs(request.query.wait))
    },
  )

  app.get<{ Params: JobParams }>(
    '/v2/:endpoint/stream/:id',
    {
      schema: {
        tags,
        summary: 'RunPod: stream a job’s output (the worker yields its result once, when it is done)',
        params: JobParams,
        response: { 200: StreamBody, ...errorResponses },
      },
    },
    async (request) => {
      await service.model(request.params.endpoint)
      const found = await service.find(request.params.id, callerOf(request))
      const body = 'side' in found ? found.side : await service.statusAfter(found.job, STREAM_WAIT_MS)
      return { status: body.status, stream: body.output === undefined ? [] : [{ output: body.output }] }
    },
  )

  app.post<{ Params: JobParams }>(
    '/v2/:endpoint/cancel/:id',
    { schema: jobSchema('RunPod: cancel a queued or running job') },
    async (request) => {
      await service.model(request.params.endpoint)
      const found = await service.find(request.params.id, callerOf(request))
      if ('side' in found) return found.side
      if (TERMINAL_STATES.has(found.job.state)) return service.status(found.job)
      const canceled = (await deps.jobs.cancel(found.job.id)) ?? found.job
      return service.statusAfter(canceled, TERMINAL_STATES.has(canceled.state) ? 0 : CANCEL_WAIT_MS)
    },
  )

  app.get<{ Params: EndpointParams }>(
    '/v2/:endpoint/health',
    {
      schema: {
        tags,
        summary: 'RunPod: job counts and workers',
        params: EndpointParams,
        response: { 200: HealthBody, ...errorResponses },
      },
    },
    async (request) => {
      const model = await service.model(request.params.endpoint)
      // in a fleet, the workers are the slots that live worker processes advertise for this model
      const workers =
        deps.fleet === undefined
          ? deps.config.workers
          : await deps.fleet.status().then(
              (status) => status.models[model]?.slots ?? 0,
              () => 0,
            )
      const readiness = (await deps.models.modelReadiness?.(model)) ?? { ready: true }
      return toHealth(await deps.jobs.counts(), workers, readiness.ready)
    },
  )

  app.post<{ Params: EndpointParams }>(
    '/v2/:endpoint/purge-queue',
    {
      schema: {
        tags,
        summary: 'RunPod: cancel every queued job (admin)',
        params: EndpointParams,
        response: { 200: PurgeBody, ...errorResponses },
      },
    },
    async (request) => {
      requireAdmin(callerOf(request), 'purging the queue')
      await service.model(request.params.endpoint)
      return { removed: await deps.jobs.purge(), status: 'completed' }
    },
  )

  /** Load-balancer mode: the container answers the worker's output directly, so both routes wait. */
  const direct = async (
    body: DirectBody,
    caller: ReturnType<typeof callerOf>,
    idempotency: IdempotencyClaim | undefined,
  ) => {
    const input = unwrapDirectBody(body)
    if (!checkInput.Check(input)) throw toValidationError(checkInput.Errors(input).First(), 'body')
    const started = await service.start(
      toWorkerAction(input),
      await service.model(undefined),
      caller,
      0,
      idempotency,
    )
    if ('output' in started) return started.output
    const done = await awaitJob(deps, started.job)
    if (done.state === 'succeeded') return service.result(done)
    if (TERMINAL_STATES.has(done.state)) throw jobFailure(done)
    await deps.jobs.cancel(done.id)
    throw errors.REQUEST_TIMEOUT(`the images were not ready within ${deps.config.syncTimeoutSeconds} s`)
  }
  for (const path of ['/run', '/runsync']) {
    app.post<{ Body: DirectBody }>(
      path,
      {
        schema: {
          tags,
          summary:
            'RunPod load-balancer mode: the worker’s fields directly or in {input}; answers its output',
          body: DirectBody,
          response: { 200: WorkerOutput, ...errorResponses },
        },
      },
      async (request) => direct(request.body, callerOf(request), idempotencyOf(request)),
    )
  }

  app.get(
    '/ping',
    {
      schema: {
        tags,
        summary: 'RunPod load-balancer health check (no key needed)',
        response: { 200: PingBody },
      },
    },
    async () => ({ status: 'healthy' }),
  )
}

/**
 * The records database the dialect keeps its job state in. Route tests on fakes have none: they get a private
 * in-memory one, which works the same but does not outlive the process.
 */
async function dialectRecords(
  deps: ApiDeps,
): Promise<{ readonly db: Kysely<Database>; close(): Promise<void> }> {
  if (deps.records !== undefined) return { db: deps.records.db, close: async () => {} }
  return openDatabase('sqlite::memory:')
}
