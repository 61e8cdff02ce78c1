import { readFileSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { errors } from '../../core/errors.js'
import { dialectTestApp } from '../testing/dialect-app.js'
import { chutesApi } from './index.js'

const example = readFileSync(
  new URL('../../../test/fixtures/dialects/chutes/generate.json', import.meta.url),
  'utf8',
)
const headers = { authorization: 'Bearer test-token', 'content-type': 'application/json' }
let close: (() => Promise<void>) | undefined
afterEach(async () => close?.())

async function setup(options: Parameters<typeof dialectTestApp>[1] = {}) {
  const made = await dialectTestApp(chutesApi, options)
  close = () => made.app.close()
  return made
}

describe('POST /generate', () => {
  it('answers the documented example with raw JPEG bytes', async () => {
    const { app, deps } = await setup()
    const response = await app.inject({ method: 'POST', url: '/generate', headers, payload: example })
    expect(response.statusCode).toBe(200)
    expect(response.headers['content-type']).toBe('image/jpeg')
    const [job] = deps.jobs.jobs.values()
    const [asset] = deps.assets.byJob(job.id)
    expect(response.rawPayload).toEqual(Buffer.from((await deps.storage.get(asset.key))!))
    expect(job.request).toMatchObject({ width: 1024, height: 1024, steps: 50, cfg: 7.5, n: 1 })
    expect(job.request.origin.source).toBe('chutes')
  })

  it('seed and null fields: null means not given', async () => {
    const { app, deps } = await setup()
    const response = await app.inject({
      method: 'POST',
      url: '/generate',
      headers,
      payload: { prompt: 'p', seed: null, width: 64, height: 64, num_inference_steps: 2 },
    })
    expect(response.statusCode).toBe(200)
    const [job] = deps.jobs.jobs.values()
    expect(job.request.seedWasRandom).toBe(true)
  })

  it.each([
    ['missing prompt', { width: 64 }, ['body', 'prompt'], 'missing'],
    ['wrong type', { prompt: 'p', width: 'wide' }, ['body', 'width'], 'value_error'],
    [
      'out of range for the model',
      { prompt: 'p', num_inference_steps: 500 },
      ['body', 'num_inference_steps'],
      'value_error',
    ],
  ])('%s → 422 with the field located in the body', async (_name, payload, loc, type) => {
    const { app } = await setup()
    const response = await app.inject({ method: 'POST', url: '/generate', headers, payload })
    expect(response.statusCode).toBe(422)
    expect(response.json().detail[0]).toMatchObject({ loc, type })
  })

  it('malformed JSON → 422, not 500', async () => {
    const { app } = await setup()
    const response = await app.inject({ method: 'POST', url: '/generate', headers, payload: '{"prompt": ' })
    expect(response.statusCode).toBe(422)
    expect(response.json().detail[0].loc).toEqual(['body'])
  })

  it('an unknown model → 404 {detail}', async () => {
    const { app } = await setup()
    const response = await app.inject({
      method: 'POST',
      url: '/generate',
      headers,
      payload: { prompt: 'p', model: 'no-such-model' },
    })
    expect(response.statusCode).toBe(404)
    expect(response.json()).toEqual({ detail: expect.stringContaining('no-such-model') })
  })

  it('a refused key → 401 {detail}', async () => {
    const { app } = await setup({
      caller: () => {
        throw errors.AUTH_UNAUTHORIZED('Invalid API key.')
      },
    })
    const response = await app.inject({ method: 'POST', url: '/generate', headers, payload: example })
    expect(response.statusCode).toBe(401)
    expect(response.json()).toEqual({ detail: 'Invalid API key.' })
  })

  it('a failed generation → its status with {detail}', async () => {
    const { app, deps } = await setup({ autoRun: false })
    const pending = app.inject({
      method: 'POST',
      url: '/generate',
      headers,
      payload: { prompt: 'p', width: 64, height: 64 },
    })
    await waitFor(() => deps.jobs.jobs.size === 1)
    const [job] = deps.jobs.jobs.values()
    deps.worker.start(job.id)
    deps.worker.fail(job.id, 'MODEL_RUN_FAILED', 'the denoiser failed')
    const response = await pending
    expect(response.statusCode).toBe(500)
    expect(response.json()).toEqual({ detail: 'the denoiser failed' })
  })

  it('a full queue → 429 with Retry-After', async () => {
    const { app, deps } = await setup()
    deps.jobs.limit = 0
    const response = await app.inject({ method: 'POST', url: '/generate', headers, payload: example })
    expect(response.statusCode).toBe(429)
    expect(response.headers['retry-after']).toBe('7')
  })
})

async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 5))
  if (!condition()) throw new Error('condition not met')
}
