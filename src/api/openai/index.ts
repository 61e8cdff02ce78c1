/**
 * OpenAI's Images API (`POST /v1/images/generations`) and Models API (`GET /v1/models`, `GET
 * /v1/models/{model}`), so the official `openai` client works with `baseURL` pointed at Pigment's `/v1`.
 * Routes only; mapping is in `translate.ts`. Errors use OpenAI's `{error: {message, type, param, code}}`.
 * @module
 */
import type { FastifyInstance } from 'fastify'
import { errors, isPigmentError } from '../../core/errors.js'
import type { ModelProfile } from '../../jobs/canonicalize.js'
import { authHook, callerOf } from '../auth.js'
import {
  dialectErrorHandler,
  dropNullFields,
  generateAndWait,
  imageBytes,
  requestedModel,
} from '../dialect-kit.js'
import type { ApiDeps } from '../shared/deps.js'
import { linkAssets } from '../shared/generations.js'
import { idempotencyOf } from '../shared/idempotency.js'
import { strictValidatorCompiler } from '../shared/validator.js'
import { ErrorEnvelope, GenerateBody, ImagesResponse, ModelList, ModelObject, ModelParams } from './schema.js'
import {
  type DeliveredImage,
  toImagesResponse,
  toModelList,
  toOpenAIError,
  toSubmission,
} from './translate.js'

const tags = ['openai']
const errorResponses = { '4xx': ErrorEnvelope, '5xx': ErrorEnvelope }

export async function openaiApi(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  /** OpenAI reports when a model was created; Pigment's models exist from the server's start. */
  const created = Math.floor(Date.now() / 1000)
  app.setValidatorCompiler(strictValidatorCompiler)
  app.setErrorHandler(
    dialectErrorHandler(deps, toOpenAIError, {
      width: 'size',
      height: 'size',
      quality: 'output_compression',
    }),
  )
  app.addHook('onRequest', authHook(deps.authenticate))
  app.addHook('preValidation', dropNullFields)

  app.post<{ Body: GenerateBody }>(
    '/v1/images/generations',
    {
      schema: {
        tags,
        summary: 'OpenAI Images: create images from a prompt',
        body: GenerateBody,
        response: { 200: ImagesResponse, ...errorResponses },
      },
    },
    async (request) => {
      const name = requestedModel(request.body.model)
      const submission = toSubmission(request.body, await profileOf(deps, name, request.body.model))
      const job = await generateAndWait(
        deps,
        { ...submission.input, model: name },
        { origin: { keyId: callerOf(request).keyId, source: 'openai' }, idempotency: idempotencyOf(request) },
      )
      const linked = await linkAssets(deps, job)
      const assets = linked.map((link) => link.asset)
      const images: DeliveredImage[] =
        submission.responseFormat === 'url'
          ? linked.map((link) => ({ url: link.url }))
          : await Promise.all(
              assets.map(async (asset) => ({ b64_json: (await imageBytes(deps, asset)).toString('base64') })),
            )
      return toImagesResponse(job, assets, images, submission)
    },
  )

  app.get(
    '/v1/models',
    { schema: { tags, summary: 'OpenAI Models: list', response: { 200: ModelList, ...errorResponses } } },
    async () => toModelList(await deps.models.list(), created),
  )

  app.get<{ Params: ModelParams }>(
    '/v1/models/:model',
    {
      schema: {
        tags,
        summary: 'OpenAI Models: retrieve',
        params: ModelParams,
        response: { 200: ModelObject, ...errorResponses },
      },
    },
    async (request) => {
      const { model } = request.params
      await profileOf(deps, requestedModel(model), model)
      return { id: model, object: 'model' as const, created, owned_by: 'pigment' }
    },
  )
}

/** The model's profile; an unknown name keeps the name as given, for OpenAI's "model `x` does not exist". */
async function profileOf(
  deps: ApiDeps,
  name: string | undefined,
  given: string | undefined,
): Promise<ModelProfile> {
  try {
    return await deps.models.profile(name)
  } catch (error) {
    if (!isPigmentError(error, 'MODEL_NOT_FOUND')) throw error
    throw errors.MODEL_NOT_FOUND(error.message, {
      field: 'model',
      details: { model: given ?? '' },
      cause: error,
    })
  }
}
