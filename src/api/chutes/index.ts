/**
 * Chutes' image endpoint (seed `003_…`): `POST /generate` → raw `image/jpeg` bytes. Routes only; mapping is in
 * `translate.ts`. Errors are FastAPI-shaped (`{detail}`), as Chutes serves them.
 * @module
 */
import type { FastifyInstance } from 'fastify'
import { authHook, callerOf } from '../auth.js'
import {
  contentTypeOf,
  dialectErrorHandler,
  dropNullFields,
  generateAndWait,
  imageBytes,
  requestedModel,
} from '../dialect-kit.js'
import type { ApiDeps } from '../shared/deps.js'
import { idempotencyOf } from '../shared/idempotency.js'
import { strictValidatorCompiler } from '../shared/validator.js'
import { ErrorBody, GenerateBody } from './schema.js'
import { toChutesError, toGenerationInput } from './translate.js'

const tags = ['chutes']

export async function chutesApi(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  app.setValidatorCompiler(strictValidatorCompiler)
  app.setErrorHandler(dialectErrorHandler(deps, toChutesError))
  app.addHook('onRequest', authHook(deps.authenticate))
  app.addHook('preValidation', dropNullFields)

  app.post<{ Body: GenerateBody }>(
    '/generate',
    {
      schema: {
        tags,
        summary: 'Chutes: generate one image, answered as raw JPEG bytes',
        body: GenerateBody,
        response: { '4xx': ErrorBody, '5xx': ErrorBody },
      },
    },
    async (request, reply) => {
      const input = toGenerationInput(request.body)
      const job = await generateAndWait(
        deps,
        { ...input, model: requestedModel(input.model) },
        { origin: { keyId: callerOf(request).keyId, source: 'chutes' }, idempotency: idempotencyOf(request) },
      )
      const [asset] = await deps.assets.listForJob(job)
      if (asset === undefined) throw new Error(`job ${job.id} succeeded without an image`)
      return reply.type(contentTypeOf(asset.format)).send(await imageBytes(deps, asset))
    },
  )
}
