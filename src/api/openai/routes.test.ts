import { readFileSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { errors } from '../../core/errors.js'
import { dialectTestApp, TEST_ALIASES, TEST_MODEL } from '../testing/dialect-app.js'
import { openaiApi } from './index.js'

const example = JSON.parse(
  readFileSync(new URL('../../../test/fixtures/dialects/openai/generate.json', import.meta.url), 'utf8'),
)
const headers = { authorization: 'Bearer sk-test' }
let close: (() => Promise<void>) | undefined
afterEach(async () => close?.())

async function setup(options: Parameters<typeof dialectTestApp>[1] = {}) {
  const made = await dialectTestApp(openaiApi, options)
  close = () => made.app.close()
  return made
}

async function generate(payload: unknown, options: Parameters<typeof dialectTestApp>[1] = {}) {
  const { app, deps } = await setup(options)
  const response = await app.inject({
    method: 'POST',
    url: '/v1/images/generations',
    headers,
    payload: payload as object,
  })
  const jobs = [...deps.jobs.jobs.values()]
  return { response, body: response.json(), deps, job: jobs[0] }
}

describe('POST /v1/images/generations', () => {
  it("answers the client's example with one URL at the model's defaults", async () => {
    const { response, body, job } = await generate(example)
    expect(response.statusCode).toBe(200)
    expect(body).toEqual({
      created: expect.any(Number),
      data: [{ url: expect.stringMatching(/^http:\/\/files\.test\//) }],
      background: 'opaque',
      output_format: 'png',
      quality: 'medium',
      size: '64x64',
    })
    expect(job.request).toMatchObject({ model: TEST_MODEL, steps: 20, n: 1 })
    expect(job.request.origin.source).toBe('openai')
  })

  it('response_format b64_json returns the image bytes in base64', async () => {
    const { body, deps, job } = await generate({ prompt: 'p', response_format: 'b64_json' })
    const [asset] = deps.assets.byJob(job.id)
    const stored = Buffer.from((await deps.storage.get(asset.key))!)
    expect(body.data).toEqual([{ b64_json: stored.toString('base64') }])
  })

  it('n makes n images with consecutive seeds', async () => {
    const { body, deps, job } = await generate({ prompt: 'p', n: 3 })
    expect(body.data).toHaveLength(3)
    const seeds = deps.assets.byJob(job.id).map((asset) => asset.seed)
    expect(seeds).toEqual([job.request.seed, job.request.seed + 1, job.request.seed + 2])
  })

  it('size sets both dimensions', async () => {
    const { body, job } = await generate({ prompt: 'p', size: '128x96' })
    expect(job.request).toMatchObject({ width: 128, height: 96 })
    expect(body.size).toBe('128x96')
  })

  it('quality scales the step count', async () => {
    expect((await generate({ prompt: 'p', quality: 'low' })).job.request.steps).toBe(10)
    expect((await generate({ prompt: 'p', quality: 'high' })).job.request.steps).toBe(30)
  })

  it('output_format and output_compression choose the encoding and its quality', async () => {
    const { body, job } = await generate({ prompt: 'p', output_format: 'webp', output_compression: 55 })
    expect(job.request.output).toEqual({ format: 'webp', quality: 55 })
    expect(body.output_format).toBe('webp')
  })

  it('unknown fields and nulls are ignored', async () => {
    const { response, job } = await generate({
      prompt: 'p',
      n: null,
      size: null,
      frobnicate: true,
      user: 'u1',
    })
    expect(response.statusCode).toBe(200)
    expect(job.request.n).toBe(1)
  })

  it.each([
    ...TEST_ALIASES,
    'default',
    TEST_MODEL,
  ])('model %s resolves through the registry', async (model) => {
    const { response, job } = await generate({ prompt: 'p', model })
    expect(response.statusCode).toBe(200)
    expect(job.request.model).toBe(TEST_MODEL)
  })

  it.each([
    ['missing prompt', {}, 'prompt', 'missing_required_parameter'],
    ['n as a string', { prompt: 'p', n: '2' }, 'n', 'invalid_type'],
    ['n above 10', { prompt: 'p', n: 11 }, 'n', 'invalid_value'],
    ['unknown quality', { prompt: 'p', quality: 'ultra' }, 'quality', 'invalid_value'],
    ['size not WxH', { prompt: 'p', size: 'huge' }, 'size', 'invalid_value'],
    ['size beyond the model', { prompt: 'p', size: '4096x4096' }, 'size', 'invalid_value'],
    ['transparent background', { prompt: 'p', background: 'transparent' }, 'background', 'unsupported_value'],
  ])('%s → 400 invalid_request_error naming %s', async (_name, payload, param, code) => {
    const { response, body } = await generate(payload)
    expect(response.statusCode).toBe(400)
    expect(body.error).toMatchObject({ type: 'invalid_request_error', param, code })
    expect(typeof body.error.message).toBe('string')
  })

  it('a body that is not JSON → 400 invalid_request_error', async () => {
    const { app } = await setup()
    const response = await app.inject({
      method: 'POST',
      url: '/v1/images/generations',
      headers: { ...headers, 'content-type': 'application/json' },
      payload: '{"prompt": ',
    })
    expect(response.statusCode).toBe(400)
    expect(response.json().error).toMatchObject({
      type: 'invalid_request_error',
      message: expect.any(String),
    })
  })

  it('an unknown model → 404 model_not_found, worded as OpenAI does', async () => {
    const { response, body } = await generate({ prompt: 'p', model: 'gpt-image-9' })
    expect(response.statusCode).toBe(404)
    expect(body.error).toEqual({
      message: 'The model `gpt-image-9` does not exist or you do not have access to it.',
      type: 'invalid_request_error',
      param: 'model',
      code: 'model_not_found',
    })
  })

  it('a refused key → 401 invalid_api_key', async () => {
    const { response, body } = await generate(example, {
      caller: () => {
        throw errors.AUTH_UNAUTHORIZED('Incorrect API key provided.')
      },
    })
    expect(response.statusCode).toBe(401)
    expect(body.error).toMatchObject({ code: 'invalid_api_key', message: 'Incorrect API key provided.' })
  })

  it('a generation that outlasts the sync wait → 504 and the job is canceled', async () => {
    const { response, body, job } = await generate(example, { autoRun: false, syncTimeoutSeconds: 0.05 })
    expect(response.statusCode).toBe(504)
    expect(body.error).toMatchObject({ type: 'server_error', code: 'timeout' })
    expect(job.state).toBe('canceled')
  })
})

describe('GET /v1/models', () => {
  it('lists every model name and alias as an OpenAI model', async () => {
    const { app } = await setup()
    const response = await app.inject({ method: 'GET', url: '/v1/models', headers })
    expect(response.statusCode).toBe(200)
    const body = response.json()
    expect(body.object).toBe('list')
    expect(body.data.map((model: { id: string }) => model.id)).toEqual([TEST_MODEL, ...TEST_ALIASES])
    expect(body.data[0]).toEqual({
      id: TEST_MODEL,
      object: 'model',
      created: expect.any(Number),
      owned_by: 'pigment',
    })
  })

  it('retrieves one model, and 404s an unknown one', async () => {
    const { app } = await setup()
    const found = await app.inject({ method: 'GET', url: '/v1/models/chroma', headers })
    expect(found.json()).toMatchObject({ id: 'chroma', object: 'model' })
    const missing = await app.inject({ method: 'GET', url: '/v1/models/nope', headers })
    expect(missing.statusCode).toBe(404)
    expect(missing.json().error.code).toBe('model_not_found')
  })
})
