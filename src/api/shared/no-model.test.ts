/**
 * A server started without any model: every dialect answers a generation as "service unavailable" in its own
 * envelope, with the catalog's explanation of how to add a model. The catalog is the real one, opened with
 * no `--model` and no default model installed (the `findDefault` hook), since the bundled model would
 * otherwise fill it.
 */
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../app.js'
import { ServerModelCatalog } from '../../server/model-catalog.js'
import { createScenarioValidator } from '../scenario/testing/openapi-validator.js'
import { fakeDeps } from './testing/fake-deps.js'

const HOW_TO_ADD = /^no model is configured: start the server with --model DIR/

let app: FastifyInstance

beforeAll(async () => {
  const models = await ServerModelCatalog.open({ models: [], aliases: {}, defaultModel: '' }, () => undefined)
  app = await buildApp({ ...fakeDeps(), models })
})

afterAll(async () => {
  await app.close()
})

function post(url: string, payload: object) {
  return app.inject({ method: 'POST', url, payload })
}

describe('a server with no model', () => {
  it('is unready', async () => {
    const response = await app.inject({ url: '/readyz' })
    expect(response.statusCode).toBe(503)
    expect(response.json().status).toBe('unready')
  })

  it('native: 503 MODEL_NOT_CONFIGURED saying how to add one', async () => {
    const response = await post('/api/generations', { prompt: 'a red cube' })
    expect(response.statusCode).toBe(503)
    const { error } = response.json()
    expect(error.code).toBe('MODEL_NOT_CONFIGURED')
    expect(error.message).toMatch(HOW_TO_ADD)
    // Not retryable: a client must not be told to come back later.
    expect(response.headers['retry-after']).toBeUndefined()
    const models = await app.inject({ url: '/api/models' })
    expect(models.statusCode).toBe(200)
  })

  it('OpenAI: 503 server_error', async () => {
    const response = await post('/v1/images/generations', { prompt: 'a red cube' })
    expect(response.statusCode).toBe(503)
    expect(response.json()).toEqual({
      error: { message: expect.stringMatching(HOW_TO_ADD), type: 'server_error', param: null, code: null },
    })
  })

  it('Segmind: 502, its closest documented status, on v1 and v2', async () => {
    for (const url of ['/v1/chroma', '/v2/chroma']) {
      const response = await post(url, { prompt: 'a red cube' })
      expect(response.statusCode).toBe(502)
      expect(JSON.stringify(response.json())).toMatch(/no model is configured/)
    }
  })

  it("Scenario: 503 in the document's ServiceUnavailableResponse shape", async () => {
    const response = await post('/scenario/v1/generate/txt2img', { modelId: 'tiny', prompt: 'a red cube' })
    expect(response.statusCode).toBe(503)
    const body = response.json()
    createScenarioValidator().assertResponse('POST', '/generate/txt2img', 503, body)
    expect(body).toMatchObject({ apiError: 'MODEL_NOT_CONFIGURED', error: expect.stringMatching(HOW_TO_ADD) })
  })

  it('Chutes: 503 with a detail string', async () => {
    const response = await post('/generate', { prompt: 'a red cube' })
    expect(response.statusCode).toBe(503)
    expect(response.json()).toEqual({ detail: expect.stringMatching(HOW_TO_ADD) })
  })

  it("RunPod: 503 with the worker's error body, queued or synchronous", async () => {
    for (const url of ['/v2/chroma/run', '/v2/chroma/runsync']) {
      const response = await post(url, { input: { prompt: 'a red cube' } })
      expect(response.statusCode).toBe(503)
      expect(response.json()).toEqual({ status: 'error', error: expect.stringMatching(HOW_TO_ADD) })
    }
  })

  it('AUTOMATIC1111: 503 in its exception shape; options and sd-models still answer', async () => {
    const response = await post('/sdapi/v1/txt2img', { prompt: 'a red cube' })
    expect(response.statusCode).toBe(503)
    expect(response.json()).toEqual({
      error: 'HTTPException',
      detail: expect.stringMatching(HOW_TO_ADD),
      body: '',
      errors: expect.stringMatching(/^503: no model is configured/),
    })
    const options = await app.inject({ url: '/sdapi/v1/options' })
    expect(options.json().sd_model_checkpoint).toBeNull()
    expect((await app.inject({ url: '/sdapi/v1/sd-models' })).json()).toEqual([])
  })
})
