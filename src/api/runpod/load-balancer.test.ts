import { readFileSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { errors } from '../../core/errors.js'
import { dialectTestApp } from '../testing/dialect-app.js'
import { runpodApi } from './index.js'

const fixture = (name: string) =>
  JSON.parse(readFileSync(new URL(`../../../test/fixtures/dialects/runpod/${name}`, import.meta.url), 'utf8'))
let close: (() => Promise<void>) | undefined
afterEach(async () => close?.())

async function post(url: string, payload: object, options: Parameters<typeof dialectTestApp>[1] = {}) {
  const { app, deps } = await dialectTestApp(runpodApi, options)
  close = () => app.close()
  const response = await app.inject({ method: 'POST', url, headers: { authorization: 'k' }, payload })
  return { response, body: response.json(), deps }
}

describe('load-balancer mode at the root', () => {
  it.each([
    '/run',
    '/runsync',
  ])('%s answers the direct example with the worker output itself', async (url) => {
    const { response, body } = await post(url, fixture('lb-direct.json'))
    expect(response.statusCode).toBe(200)
    expect(body).toMatchObject({
      status: 'ok',
      count: 1,
      uploaded: true,
      meta: { width: 768, height: 768, num_inference_steps: 6, num_images: 1, format: 'PNG' },
    })
  })

  it('also accepts the fields wrapped in {input}', async () => {
    const { body } = await post('/runsync', fixture('queue-request.json'))
    expect(body.meta).toMatchObject({ width: 1024, height: 1024, seed: 2025, guidance_scale: 1 })
  })

  it('GET /ping answers without a key, for the load balancer', async () => {
    const { app } = await dialectTestApp(runpodApi, {
      caller: () => {
        throw errors.AUTH_UNAUTHORIZED('Missing API key.')
      },
    })
    close = () => app.close()
    const ping = await app.inject({ method: 'GET', url: '/ping' })
    expect(ping.statusCode).toBe(200)
    expect(ping.json()).toEqual({ status: 'healthy' })
    expect((await app.inject({ method: 'POST', url: '/run', payload: { prompt: 'p' } })).statusCode).toBe(401)
  })

  it('warmup answers {status: ok, warmed: true}', async () => {
    const { body } = await post('/run', fixture('warmup.json'))
    expect(body).toEqual({ status: 'ok', warmed: true })
  })

  it.each([
    ['missing prompt', { steps: 6 }],
    ['wrong type', { prompt: 'p', num_images: 'two' }],
    ['bad size', { input: { prompt: 'p', size: '10x10x10' } }],
  ])('%s → 400 {status: "error", error}', async (_name, payload) => {
    const { response, body } = await post('/run', payload)
    expect(response.statusCode).toBe(400)
    expect(body).toEqual({ status: 'error', error: expect.any(String) })
  })

  it('a generation that outlasts the wait → 504, and the job is canceled', async () => {
    const { response, body, deps } = await post(
      '/runsync',
      { prompt: 'p' },
      { autoRun: false, syncTimeoutSeconds: 0.05 },
    )
    expect(response.statusCode).toBe(504)
    expect(body.status).toBe('error')
    expect([...deps.jobs.jobs.values()][0].state).toBe('canceled')
  })
})
