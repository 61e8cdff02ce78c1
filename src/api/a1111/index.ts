/**
 * AUTOMATIC1111's `/sdapi/v1` API, the one Open WebUI, SillyTavern and LibreChat call for Stable Diffusion:
 * `txt2img` (synchronous, base64 PNGs and an `info` JSON string), `options` (`sd_model_checkpoint` picks the
 * model for the key's later requests), the model/sampler/scheduler lists, and `progress`, `interrupt` and
 * `skip`. Routes only; mapping is in `translate.ts`. Keys arrive as HTTP Basic (`--api-auth user:pass`),
 * errors leave in A1111's FastAPI shapes.
 * @module
 */
import { randomInt } from 'node:crypto'
import { Type } from '@sinclair/typebox'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { errors } from '../../core/errors.js'
import { authHook, callerOf } from '../auth.js'
import { dialectErrorHandler, dropNullFields } from '../dialect-kit.js'
import type { ApiDeps } from '../shared/deps.js'
import { strictValidatorCompiler } from '../shared/validator.js'
import { A1111Activity, toProgress } from './activity.js'
import { toOptions, toSamplers, toSchedulers, toSdModels } from './listings.js'
import {
  ErrorBody,
  NamedItem,
  Options,
  OptionsBody,
  ProgressQuery,
  ProgressResponse,
  Sampler,
  Scheduler,
  SdModel,
  Txt2ImgBody,
  Txt2ImgResponse,
  Upscaler,
} from './schema.js'
import {
  jobTimestamp,
  matchCheckpoint,
  RANDOM_SEED_BOUND,
  toA1111Error,
  toInfo,
  toParameters,
  toSubmission,
} from './translate.js'
import { runIterations, stopRuns } from './txt2img-run.js'

const tags = ['a1111']
const errorResponses = { '4xx': ErrorBody, '5xx': ErrorBody }
const list = (item: Parameters<typeof Type.Array>[0]) => ({ 200: Type.Array(item), ...errorResponses })

export async function a1111Api(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  const activity = new A1111Activity()
  /**
   * `sd_model_checkpoint` per key (auth off: one for everyone). In memory: after a restart every key is back
   * on the default model, as A1111 itself is back on its configured one.
   */
  const checkpoints = new Map<string, string>()
  app.setValidatorCompiler(strictValidatorCompiler)
  app.setErrorHandler(dialectErrorHandler(deps, toA1111Error))
  app.addHook('onRequest', authHook(deps.authenticate))
  app.addHook('preValidation', dropNullFields)

  const ownerOf = (request: FastifyRequest) => callerOf(request).keyId ?? ''

  /** The key's model: its option when set and still configured, else the default (null: none at all). */
  async function currentModel(owner: string): Promise<string | null> {
    const models = await deps.models.list()
    const chosen = checkpoints.get(owner)
    if (chosen !== undefined && models.some((model) => model.name === chosen)) return chosen
    return models.find((model) => model.isDefault)?.name ?? models[0]?.name ?? null
  }

  async function modelNamed(given: string, field: string): Promise<string> {
    const name = matchCheckpoint(given, await deps.models.list())
    if (name === undefined) throw errors.NOT_FOUND(`model ${JSON.stringify(given)} not found`, { field })
    return name
  }

  app.post<{ Body: Txt2ImgBody }>(
    '/sdapi/v1/txt2img',
    {
      schema: {
        tags,
        summary: 'A1111: text to image (synchronous; base64 PNGs and an info JSON string)',
        body: Txt2ImgBody,
        response: { 200: Txt2ImgResponse, ...errorResponses },
      },
    },
    async (request) => {
      const owner = ownerOf(request)
      const submission = toSubmission(request.body, {
        maxImages: deps.config.limits.maxImages,
        randomSeed: () => randomInt(0, RANDOM_SEED_BOUND),
      })
      const model =
        submission.checkpoint === undefined
          ? (checkpoints.get(owner) ?? undefined)
          : await modelNamed(submission.checkpoint, 'override_settings.sd_model_checkpoint')
      const started = new Date()
      const run = activity.begin(owner, submission.iterations, jobTimestamp(started))
      try {
        const result = await runIterations(deps, run, submission, model, callerOf(request).keyId)
        return {
          images: result.images,
          parameters: toParameters(request.body, result, submission),
          info: toInfo(result, request.body, submission, run.timestamp),
        }
      } finally {
        activity.end(run)
      }
    },
  )

  app.get(
    '/sdapi/v1/options',
    {
      schema: {
        tags,
        summary: 'A1111: settings (sd_model_checkpoint is the key’s model)',
        response: { 200: Options, ...errorResponses },
      },
    },
    async (request) => toOptions(await currentModel(ownerOf(request))),
  )

  app.post<{ Body: OptionsBody }>(
    '/sdapi/v1/options',
    {
      schema: {
        tags,
        summary:
          'A1111: change settings; sd_model_checkpoint selects the model for this key, others are ignored',
        body: OptionsBody,
        response: errorResponses,
      },
    },
    async (request, reply) => {
      const given = request.body.sd_model_checkpoint
      if (given !== undefined) {
        if (typeof given !== 'string') {
          throw errors.VALIDATION_FAILED('sd_model_checkpoint: must be a string', {
            field: 'sd_model_checkpoint',
          })
        }
        checkpoints.set(ownerOf(request), await modelNamed(given, 'sd_model_checkpoint'))
      }
      return reply.type('application/json').send('null')
    },
  )

  app.get(
    '/sdapi/v1/sd-models',
    { schema: { tags, summary: 'A1111: the models (checkpoints)', response: list(SdModel) } },
    async () => toSdModels(await deps.models.list()),
  )
  app.get(
    '/sdapi/v1/samplers',
    { schema: { tags, summary: 'A1111: samplers, by A1111 display name', response: list(Sampler) } },
    async () => toSamplers(),
  )
  app.get(
    '/sdapi/v1/schedulers',
    { schema: { tags, summary: 'A1111: schedulers (A1111 ≥ 1.9)', response: list(Scheduler) } },
    async () => toSchedulers(),
  )
  for (const [path, item] of [
    ['upscalers', Upscaler],
    ['latent-upscale-modes', NamedItem],
    ['sd-vae', NamedItem],
  ] as const) {
    app.get(
      `/sdapi/v1/${path}`,
      { schema: { tags, summary: `A1111: ${path} (Pigment has none: an empty list)`, response: list(item) } },
      async () => [],
    )
  }

  app.get<{ Querystring: ProgressQuery }>(
    '/sdapi/v1/progress',
    {
      schema: {
        tags,
        summary: 'A1111: progress of this key’s txt2img, ETA and the latest preview',
        querystring: ProgressQuery,
        response: { 200: ProgressResponse, ...errorResponses },
      },
    },
    async (request) => {
      const runs = activity.of(ownerOf(request))
      const jobId = runs[0]?.jobId ?? null
      const current = jobId === null ? null : await deps.jobs.get(jobId)
      return toProgress(runs, current, {
        now: Date.now(),
        withImage: request.query.skip_current_image !== true,
      })
    },
  )

  app.post(
    '/sdapi/v1/interrupt',
    { schema: { tags, summary: 'A1111: stop this key’s txt2img requests', response: errorResponses } },
    async (request, reply) => {
      await stopRuns(deps, activity.of(ownerOf(request)), 'interrupt')
      return reply.type('application/json').send('null')
    },
  )

  app.post(
    '/sdapi/v1/skip',
    {
      schema: {
        tags,
        summary: 'A1111: skip the running batch of this key’s txt2img',
        response: errorResponses,
      },
    },
    async (request, reply) => {
      await stopRuns(deps, activity.of(ownerOf(request)).slice(0, 1), 'skip')
      return reply.type('application/json').send('null')
    },
  )
}
