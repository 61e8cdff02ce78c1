import { readFileSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { errors } from '../../core/errors.js'
import { dialectTestApp } from '../testing/dialect-app.js'
import { segmindApi } from './index.js'
import { UNLIMITED_CREDITS } from './translate.js'

const example = readFileSync(
  new URL('../../../test/fixtures/dialects/segmind/chroma.json', import.meta.url),
  'utf8',
)
const headers = { 'x-api-key': 'SG_test', 'content-type': 'application/json' }
let close: (() => Promise<void>) | undefined
afterEach(async () => close?.())

async function setup(options: Parameters<typeof dialectTestApp>[1] = {}) {
  const made = await dialectTestApp(segmindApi, options)
  close = () => made.app.close()
  return made
}

const small = (extra: object = {}) => ({
  prompt: 'p',
  aspect_ratio: 'custom',
  width: 768,
  height: 768,
  ...extra,
})

describe('POST /v1/{model} (sync)', () => {
  it('answers the documented example with the PNG bytes and the credits header', async () => {
    const { app, deps } = await setup()
    const response = await app.inject({ method: 'POST', url: '/v1/chroma', headers, payload: example })
    expect(response.statusCode).toBe(200)
    expect(response.headers['content-type']).toBe('image/png')
    expect(response.headers['x-remaining-credits']).toBe(String(UNLIMITED_CREDITS))
    const [job] = deps.jobs.jobs.values()
    const [asset] = deps.assets.byJob(job.id)
    expect(response.rawPayload).toEqual(Buffer.from((await deps.storage.get(asset.key))!))
    expect(job.request).toMatchObject({
      width: 1024,
      height: 1024,
      steps: 40,
      cfg: 7,
      sampler: 'euler',
      scheduler: 'beta',
      seed: 123456789,
      n: 1,
      output: { format: 'png', quality: 95 },
    })
    expect(job.request.origin.source).toBe('segmind')
  })

  it('base64: true answers JSON with the image in base64, one entry per sample', async () => {
    const { app, deps } = await setup()
    const response = await app.inject({
      method: 'POST',
      url: '/v1/chroma',
      headers,
      payload: small({ base64: true, samples: 2 }),
    })
    expect(response.statusCode).toBe(200)
    const body = response.json()
    const [job] = deps.jobs.jobs.values()
    const assets = deps.assets.byJob(job.id)
    const stored = await Promise.all(
      assets.map(async (a) => Buffer.from((await deps.storage.get(a.key))!).toString('base64')),
    )
    expect(body).toEqual({ image: stored[0], images: stored })
    expect(assets.map((asset) => asset.seed)).toEqual([job.request.seed, job.request.seed + 1])
  })

  it('image_format sets the content type', async () => {
    const { app } = await setup()
    const response = await app.inject({
      method: 'POST',
      url: '/v1/chroma',
      headers,
      payload: small({ image_format: 'jpeg' }),
    })
    expect(response.headers['content-type']).toBe('image/jpeg')
  })

  it('aspect_ratio presets fix the size; custom uses width and height', async () => {
    const { app, deps } = await setup()
    await app.inject({
      method: 'POST',
      url: '/v1/chroma',
      headers,
      payload: { prompt: 'p', aspect_ratio: '16:9 landscape 1344x768' },
    })
    await app.inject({
      method: 'POST',
      url: '/v1/chroma',
      headers,
      payload: small({ width: 1024, height: 768 }),
    })
    const [preset, custom] = deps.jobs.jobs.values()
    expect(preset.request).toMatchObject({ width: 1344, height: 768 })
    expect(custom.request).toMatchObject({ width: 1024, height: 768 })
  })

  it('sampler_name aliases resolve to the engine names', async () => {
    const { app, deps } = await setup()
    await app.inject({
      method: 'POST',
      url: '/v1/chroma',
      headers,
      payload: small({ sampler_name: 'euler_a', scheduler: 'karras' }),
    })
    const [job] = deps.jobs.jobs.values()
    expect(job.request).toMatchObject({ sampler: 'euler_ancestral', scheduler: 'karras' })
  })
})

describe('v2: submit, poll, result', () => {
  it('QUEUED → PROCESSING → COMPLETED, then the result with the image URL and metrics', async () => {
    const { app, deps } = await setup({ autoRun: false })
    const submit = await app.inject({ method: 'POST', url: '/v2/chroma', headers, payload: example })
    expect(submit.statusCode).toBe(200)
    const { request_id, status, status_url, response_url } = submit.json()
    expect(status).toBe('QUEUED')
    expect(status_url).toBe(`http://127.0.0.1:7860/v2/requests/${request_id}/status`)
    expect(response_url).toBe(`http://127.0.0.1:7860/v2/requests/${request_id}`)
    expect(submit.headers['x-remaining-credits']).toBeDefined()

    const poll = async () => app.inject({ method: 'GET', url: `/v2/requests/${request_id}/status`, headers })
    expect((await poll()).json()).toEqual({ request_id, status: 'QUEUED' })
    deps.worker.start(request_id)
    expect((await poll()).json().status).toBe('PROCESSING')
    const pending = await app.inject({ method: 'GET', url: `/v2/requests/${request_id}`, headers })
    expect(pending.statusCode).toBe(202)
    await deps.worker.succeed(request_id)
    expect((await poll()).json().status).toBe('COMPLETED')

    const result = await app.inject({ method: 'GET', url: `/v2/requests/${request_id}`, headers })
    expect(result.statusCode).toBe(200)
    expect(result.json()).toEqual({
      request_id,
      status: 'COMPLETED',
      error: null,
      output: expect.stringMatching(/^http:\/\/files\.test\//),
      metrics: { inference_time: expect.any(Number) },
    })
  })

  it('with base64: true the result output is the image in base64', async () => {
    const { app, deps } = await setup()
    const submit = await app.inject({
      method: 'POST',
      url: '/v2/chroma',
      headers,
      payload: small({ base64: true }),
    })
    const { request_id } = submit.json()
    await deps.jobs.waitUntilFinished(request_id, 2000)
    const [asset] = deps.assets.byJob(request_id)
    const result = await app.inject({ method: 'GET', url: `/v2/requests/${request_id}`, headers })
    expect(result.json().output).toBe(Buffer.from((await deps.storage.get(asset.key))!).toString('base64'))
  })

  it('FAILED is served as HTTP 422 with the error detail, on status and result', async () => {
    const { app, deps } = await setup({ autoRun: false })
    const { request_id } = (
      await app.inject({ method: 'POST', url: '/v2/chroma', headers, payload: example })
    ).json()
    deps.worker.start(request_id)
    deps.worker.fail(request_id, 'MODEL_RUN_FAILED', 'the denoiser failed')
    const status = await app.inject({ method: 'GET', url: `/v2/requests/${request_id}/status`, headers })
    expect(status.statusCode).toBe(422)
    expect(status.json()).toEqual({ request_id, status: 'FAILED', error: 'the denoiser failed' })
    const result = await app.inject({ method: 'GET', url: `/v2/requests/${request_id}`, headers })
    expect(result.statusCode).toBe(422)
    expect(result.json()).toMatchObject({ status: 'FAILED', error: 'the denoiser failed', output: null })
  })

  it('unknown, expired and other keys’ request ids → 404', async () => {
    const owner = { keyId: 'k1', role: 'user' as const, remainingCredits: 5 }
    const other = { keyId: 'k2', role: 'user' as const, remainingCredits: 5 }
    let caller = owner
    const { app, deps } = await setup({ caller: () => caller })
    const { request_id } = (
      await app.inject({ method: 'POST', url: '/v2/chroma', headers, payload: example })
    ).json()
    const statusOf = async (id: string) =>
      (await app.inject({ method: 'GET', url: `/v2/requests/${id}/status`, headers })).statusCode
    expect(await statusOf('no-such-request')).toBe(404)
    caller = other
    expect(await statusOf(request_id)).toBe(404)
    caller = owner
    await deps.jobs.waitUntilFinished(request_id, 2000)
    const job = deps.jobs.jobs.get(request_id)!
    deps.jobs.update({ ...job, state: 'expired' }, 'succeeded')
    const expired = await app.inject({ method: 'GET', url: `/v2/requests/${request_id}`, headers })
    expect(expired.statusCode).toBe(404)
    expect(expired.json()).toEqual({ error: `request ${request_id} not found or expired` })
    expect(expired.headers['x-remaining-credits']).toBe('5')
  })
})

describe('documented error codes', () => {
  it.each([
    ['missing prompt', { aspect_ratio: 'custom' }],
    ['prompt of the wrong type', { prompt: 7 }],
    ['cfg above 20', { prompt: 'p', cfg: 25 }],
    ['steps below 10', { prompt: 'p', steps: 5 }],
    ['width below 768', small({ width: 700 })],
    ['image_quality above 100', { prompt: 'p', image_quality: 101 }],
    ['unknown sampler', { prompt: 'p', sampler_name: 'ddim' }],
    ['unknown scheduler', { prompt: 'p', scheduler: 'cosine' }],
    ['unknown aspect ratio', { prompt: 'p', aspect_ratio: '2:1' }],
    ['unknown image format', { prompt: 'p', image_format: 'gif' }],
  ])('400 for %s', async (_name, payload) => {
    const { app } = await setup()
    const response = await app.inject({ method: 'POST', url: '/v1/chroma', headers, payload })
    expect(response.statusCode).toBe(400)
    expect(response.json()).toEqual({ error: expect.any(String) })
    expect(response.headers['x-remaining-credits']).toBeDefined()
  })

  it('400 for a body that is not JSON', async () => {
    const { app } = await setup()
    const response = await app.inject({ method: 'POST', url: '/v1/chroma', headers, payload: '{"prompt": ' })
    expect(response.statusCode).toBe(400)
    expect(response.json()).toEqual({ error: expect.any(String) })
  })

  it('401 for a missing or invalid key, with the credits header', async () => {
    const { app } = await setup({
      caller: () => {
        throw errors.AUTH_UNAUTHORIZED('Invalid API key')
      },
    })
    const response = await app.inject({ method: 'POST', url: '/v1/chroma', headers, payload: example })
    expect(response.statusCode).toBe(401)
    expect(response.json()).toEqual({ error: 'Invalid API key' })
    expect(response.headers['x-remaining-credits']).toBe(String(UNLIMITED_CREDITS))
  })

  it('403 when the key may not do this', async () => {
    const { app } = await setup({
      caller: () => {
        throw errors.AUTH_FORBIDDEN('this key may not use this model')
      },
    })
    const response = await app.inject({ method: 'POST', url: '/v2/chroma', headers, payload: example })
    expect(response.statusCode).toBe(403)
  })

  it('404 for an unknown model', async () => {
    const { app } = await setup()
    const response = await app.inject({ method: 'POST', url: '/v1/sdxl-turbo', headers, payload: example })
    expect(response.statusCode).toBe(404)
    expect(response.json().error).toContain('sdxl-turbo')
  })

  it('406 when credits do not cover the request', async () => {
    const { app, deps } = await setup()
    deps.jobs.enqueue = async () => {
      throw errors.CREDITS_INSUFFICIENT('Insufficient credits')
    }
    const response = await app.inject({ method: 'POST', url: '/v1/chroma', headers, payload: example })
    expect(response.statusCode).toBe(406)
    expect(response.json()).toEqual({ error: 'Insufficient credits' })
  })

  it('429 with Retry-After when the queue is full', async () => {
    const { app, deps } = await setup()
    deps.jobs.limit = 0
    const response = await app.inject({ method: 'POST', url: '/v2/chroma', headers, payload: example })
    expect(response.statusCode).toBe(429)
    expect(response.headers['retry-after']).toBe('7')
  })

  it('500 when the generation fails on the server', async () => {
    const { app, deps } = await setup({ autoRun: false })
    const pending = app.inject({ method: 'POST', url: '/v1/chroma', headers, payload: small() })
    await waitFor(() => deps.jobs.jobs.size === 1)
    const [job] = deps.jobs.jobs.values()
    deps.worker.start(job.id)
    deps.worker.fail(job.id, 'MODEL_RUN_FAILED', 'the denoiser failed')
    const response = await pending
    expect(response.statusCode).toBe(500)
    expect(response.json()).toEqual({ error: 'the denoiser failed' })
  })

  it('502 while the service is temporarily unavailable (shutting down)', async () => {
    const { app, deps } = await setup()
    deps.state.accepting = false
    const response = await app.inject({ method: 'POST', url: '/v1/chroma', headers, payload: example })
    expect(response.statusCode).toBe(502)
  })

  it('504 when the sync request times out, and the job is canceled', async () => {
    const { app, deps } = await setup({ autoRun: false, syncTimeoutSeconds: 0.05 })
    const response = await app.inject({ method: 'POST', url: '/v1/chroma', headers, payload: example })
    expect(response.statusCode).toBe(504)
    const [job] = deps.jobs.jobs.values()
    expect(job.state).toBe('canceled')
  })
})

async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 5))
  if (!condition()) throw new Error('condition not met')
}
