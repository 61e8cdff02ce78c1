import { readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { errors } from '../../core/errors.js'
import type { Caller } from '../auth.js'
import { dialectTestApp, TEST_MODEL } from '../testing/dialect-app.js'
import { runpodApi } from './index.js'

const fixture = (name: string) =>
  JSON.parse(readFileSync(new URL(`../../../test/fixtures/dialects/runpod/${name}`, import.meta.url), 'utf8'))
const headers = { authorization: 'rp_test_key' }
const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup()
})

async function setup(options: Parameters<typeof dialectTestApp>[1] = {}) {
  const fast = { timeoutMs: 2000, retries: 1, retryDelayMs: 10 }
  // The webhook receivers of these tests listen on loopback, which a webhook reaches only when allowed.
  const made = await dialectTestApp((app, deps) => runpodApi(app, deps, { webhookPolicy: fast }), {
    ...options,
    config: { webhookAllow: ['127.0.0.1'], ...options.config },
  })
  cleanups.push(() => made.app.close())
  const post = async (url: string, payload: object) =>
    (await made.app.inject({ method: 'POST', url, headers, payload })) as Awaited<
      ReturnType<typeof made.app.inject>
    >
  const get = async (url: string) => made.app.inject({ method: 'GET', url, headers })
  return { ...made, post, get }
}

const small = (input: object = {}) => ({ input: { prompt: 'p', size: '64x64', steps: 2, ...input } })

describe('queue mode: /v2/{endpoint}', () => {
  it('run → IN_QUEUE, then status → COMPLETED with the worker output of the seed', async () => {
    const { post, get, deps } = await setup()
    const run = await post('/v2/chroma/run', fixture('queue-request.json'))
    expect(run.statusCode).toBe(200)
    const { id, status } = run.json()
    expect(status).toBe('IN_QUEUE')
    await deps.jobs.waitUntilFinished(id, 2000)
    const body = (await get(`/v2/chroma/status/${id}`)).json()
    const example = fixture('example-response.json')
    expect(body).toMatchObject({
      id,
      status: 'COMPLETED',
      delayTime: expect.any(Number),
      executionTime: expect.any(Number),
    })
    expect(Object.keys(body.output).sort()).toEqual([...Object.keys(example), 'results'].sort())
    expect(body.output).toMatchObject({
      status: 'ok',
      count: 1,
      uploaded: true,
      presigned_urls: [expect.stringMatching(/^http:\/\/files\.test\//)],
      s3_bucket: null,
      s3_keys: [expect.any(String)],
      meta: {
        height: 1024,
        width: 1024,
        num_inference_steps: 8,
        guidance_scale: 1,
        num_images: 1,
        seed: 2025,
        dtype: 'float32',
        device: 'cpu',
        time_sec: expect.any(Number),
        format: 'PNG',
      },
    })
    expect(deps.jobs.jobs.get(id)!.request.model).toBe(TEST_MODEL)
  })

  it('runsync waits and answers COMPLETED with the output', async () => {
    const { post } = await setup()
    const body = (await post('/v2/chroma/runsync?wait=5000', fixture('queue-request.json'))).json()
    expect(body).toMatchObject({ status: 'COMPLETED', output: { status: 'ok', count: 1 } })
  })

  it('runsync whose wait runs out answers the id and the status so far', async () => {
    const { post } = await setup({ autoRun: false })
    const body = (await post('/v2/chroma/runsync?wait=20', small())).json()
    expect(body).toEqual({ id: expect.any(String), status: 'IN_QUEUE' })
  })

  it('n, size, cfg and output_format show in the output', async () => {
    const { post, deps } = await setup()
    const body = (
      await post(
        '/v2/default/runsync',
        small({ n: 3, size: '128x64', cfg: 3.5, output_format: 'JPG', seed: 10 }),
      )
    ).json()
    expect(body.output.count).toBe(3)
    expect(body.output.meta).toMatchObject({
      width: 128,
      height: 64,
      guidance_scale: 3.5,
      num_images: 3,
      seed: 10,
      format: 'JPG',
    })
    const assets = deps.assets.byJob(body.id)
    expect(assets.map((asset) => asset.seed)).toEqual([10, 11, 12])
    expect(assets.map((asset) => asset.format)).toEqual(['jpeg', 'jpeg', 'jpeg'])
  })

  it('status-sync waits for the end; stream yields the output once the job is done', async () => {
    const { post, get, deps } = await setup({ autoRun: false })
    const { id } = (await post('/v2/chroma/run', small())).json()
    expect((await get(`/v2/chroma/status/${id}`)).json()).toEqual({ id, status: 'IN_QUEUE' })
    deps.worker.start(id)
    expect((await get(`/v2/chroma/status-sync/${id}?wait=10`)).json()).toMatchObject({
      status: 'IN_PROGRESS',
    })
    const streamed = get(`/v2/chroma/stream/${id}`)
    await deps.worker.succeed(id)
    const stream = (await streamed).json()
    expect(stream.status).toBe('COMPLETED')
    expect(stream.stream).toEqual([{ output: expect.objectContaining({ status: 'ok', count: 1 }) }])
    expect((await get(`/v2/chroma/status-sync/${id}?wait=1000`)).json().status).toBe('COMPLETED')
  })

  it('cancel stops a queued job: CANCELLED', async () => {
    const { post, deps } = await setup({ autoRun: false })
    const { id } = (await post('/v2/chroma/run', small())).json()
    const body = (await post(`/v2/chroma/cancel/${id}`, {})).json()
    expect(body).toMatchObject({ id, status: 'CANCELLED' })
    expect(deps.jobs.jobs.get(id)!.state).toBe('canceled')
  })

  it('health counts jobs and workers; purge-queue cancels the queued ones', async () => {
    const { post, get } = await setup({ autoRun: false })
    await post('/v2/chroma/run', small())
    await post('/v2/chroma/run', small())
    const health = (await get('/v2/chroma/health')).json()
    expect(health.jobs).toEqual({ completed: 0, failed: 0, inProgress: 0, inQueue: 2, retried: 0 })
    expect(health.workers).toMatchObject({ idle: 1, running: 0 })
    expect((await post('/v2/chroma/purge-queue', {})).json()).toEqual({ removed: 2, status: 'completed' })
    expect((await get('/v2/chroma/health')).json().jobs.inQueue).toBe(0)
  })

  it('a failed job reads FAILED with its error', async () => {
    const { post, get, deps } = await setup({ autoRun: false })
    const { id } = (await post('/v2/chroma/run', small())).json()
    deps.worker.start(id)
    deps.worker.fail(id, 'MODEL_RUN_FAILED', 'the denoiser failed')
    expect((await get(`/v2/chroma/status/${id}`)).json()).toMatchObject({
      id,
      status: 'FAILED',
      error: 'the denoiser failed',
    })
  })

  it('policy.lowPriority queues behind normal jobs', async () => {
    const { post, deps } = await setup({ autoRun: false })
    const { id } = (await post('/v2/chroma/run', { ...small(), policy: { lowPriority: true } })).json()
    expect(deps.jobs.jobs.get(id)!.priority).toBe(-1)
  })
})

describe('execution policy and webhook', () => {
  it('ttl: a job still queued when its ttl runs out ends TIMED_OUT', async () => {
    const { post, get, deps } = await setup({ autoRun: false })
    const { id } = (await post('/v2/chroma/run', { ...small(), policy: { ttl: 30 } })).json()
    await deps.jobs.waitUntilFinished(id, 2000)
    expect((await get(`/v2/chroma/status/${id}`)).json()).toMatchObject({ id, status: 'TIMED_OUT' })
  })

  it('executionTimeout: a job running longer is stopped and reads TIMED_OUT', async () => {
    const { post, get, deps } = await setup({ autoRun: false })
    const { id } = (await post('/v2/chroma/run', { ...small(), policy: { executionTimeout: 30 } })).json()
    deps.worker.start(id)
    await until(() => deps.jobs.jobs.get(id)!.cancelRequested === true)
    // the fake worker stops at its "next step", as a real one would
    deps.jobs.update({ ...deps.jobs.jobs.get(id)!, state: 'canceled', finishedAt: new Date() }, 'canceled')
    expect((await get(`/v2/chroma/status/${id}`)).json()).toMatchObject({
      status: 'TIMED_OUT',
      error: expect.any(String),
    })
  })

  it('webhook: the final status is POSTed when the job ends, retried after a failure', async () => {
    const hook = await receiver([500, 200])
    const { post } = await setup()
    const { id } = (await post('/v2/chroma/run', { ...small(), webhook: hook.url })).json()
    await until(() => hook.bodies.length === 2)
    expect(hook.bodies[1]).toMatchObject({ id, status: 'COMPLETED', output: { status: 'ok', count: 1 } })
  })

  it('a webhook to an internal address is refused at submission, naming webhook', async () => {
    const { post } = await setup({ config: { webhookAllow: [] } })
    for (const webhook of [
      'http://169.254.169.254/latest/meta-data/',
      'http://localhost:9/',
      'http://2130706433/',
    ]) {
      const response = await post('/v2/chroma/run', { ...small(), webhook })
      expect(response.statusCode).toBe(400)
      expect(response.json()).toEqual({
        status: 'error',
        error: expect.stringMatching(/^webhook must reach a public address/),
      })
    }
  })

  it('a webhook that is not an http(s) URL is refused at submission', async () => {
    const { post } = await setup()
    const response = await post('/v2/chroma/run', { ...small(), webhook: 'file:///etc/passwd' })
    expect(response.statusCode).toBe(400)
    expect(response.json()).toEqual({ status: 'error', error: expect.stringContaining('webhook') })
  })
})

describe('maintenance modes', () => {
  it('warmup loads the model and answers {status: ok, warmed: true}, as a job too', async () => {
    const { post, get, deps } = await setup()
    const sync = (await post('/v2/chroma/runsync', fixture('warmup.json'))).json()
    expect(sync).toMatchObject({ status: 'COMPLETED', output: { status: 'ok', warmed: true } })
    expect(deps.models.warmed).toEqual([TEST_MODEL])
    const queued = (await post('/v2/chroma/run', fixture('warmup.json'))).json()
    expect((await get(`/v2/chroma/status/${queued.id}`)).json().output).toEqual({
      status: 'ok',
      warmed: true,
    })
  })

  it('debug reports paths and free disk space', async () => {
    const { post } = await setup()
    const { output } = (await post('/v2/chroma/runsync', fixture('debug.json'))).json()
    expect(output.status).toBe('ok')
    expect(output.paths).toMatchObject({ data_dir: expect.any(String), models_cache_dir: expect.any(String) })
    expect(Object.keys(output.disk)).toEqual(Object.keys(output.paths))
  })

  it('cleanup and debug need an admin key: 403 otherwise', async () => {
    const user: Caller = { keyId: 'u1', role: 'user', remainingCredits: null }
    const { post } = await setup({ caller: () => user })
    for (const input of [{ cleanup: true }, { debug: true }]) {
      const response = await post('/v2/chroma/runsync', { input })
      expect(response.statusCode).toBe(403)
      expect(response.json()).toEqual({ status: 'error', error: expect.any(String) })
    }
  })

  it('comfy + payload: a clear "not available" error, not a crash', async () => {
    const { post } = await setup()
    const response = await post('/v2/chroma/run', fixture('comfy-prompt.json'))
    expect(response.statusCode).toBe(501)
    expect(response.json()).toEqual({ status: 'error', error: expect.stringContaining('not available') })
  })
})

describe('errors: {status: "error", error}', () => {
  it.each([
    ['missing input', {}],
    ['missing prompt', { input: { steps: 4 } }],
    ['steps as a string', { input: { prompt: 'p', steps: '8' } }],
    ['negative steps', { input: { prompt: 'p', steps: -1 } }],
    ['size not WxH', { input: { prompt: 'p', size: 'large' } }],
    ['width not a multiple of 8', { input: { prompt: 'p', width: 100 } }],
    ['unknown output_format', { input: { prompt: 'p', output_format: 'GIF' } }],
    ['comfy without payload', { input: { comfy: true } }],
    ['s3Config', { ...small(), s3Config: { bucketName: 'b' } }],
  ])('400 for %s', async (_name, payload) => {
    const { post } = await setup()
    const response = await post('/v2/chroma/run', payload)
    expect(response.statusCode).toBe(400)
    expect(response.json()).toEqual({ status: 'error', error: expect.any(String) })
  })

  it('400 for a body that is not JSON', async () => {
    const { app } = await setup()
    const response = await app.inject({
      method: 'POST',
      url: '/v2/chroma/run',
      headers: { ...headers, 'content-type': 'application/json' },
      payload: '{"input": {',
    })
    expect(response.statusCode).toBe(400)
    expect(response.json()).toEqual({ status: 'error', error: expect.any(String) })
  })

  it('404 for an unknown endpoint and an unknown job id', async () => {
    const { post, get } = await setup()
    expect((await post('/v2/nope/run', small())).statusCode).toBe(404)
    const missing = await get('/v2/chroma/status/no-such-job')
    expect(missing.statusCode).toBe(404)
    expect(missing.json()).toEqual({ status: 'error', error: 'request no-such-job does not exist' })
  })

  it("401 for a refused key; another key's job is 404", async () => {
    let caller: Caller = { keyId: 'a', role: 'user', remainingCredits: null }
    const { post, get } = await setup({
      autoRun: false,
      caller: (h) => {
        if (h.authorization !== 'rp_test_key') throw errors.AUTH_UNAUTHORIZED('Invalid API key.')
        return caller
      },
    })
    const { id } = (await post('/v2/chroma/run', small())).json()
    caller = { keyId: 'b', role: 'user', remainingCredits: null }
    expect((await get(`/v2/chroma/status/${id}`)).statusCode).toBe(404)
  })
})

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 5))
  if (!condition()) throw new Error('condition not met')
}

async function receiver(statuses: number[]) {
  const bodies: unknown[] = []
  const server: Server = createServer(async (request, response) => {
    let text = ''
    for await (const chunk of request) text += chunk
    bodies.push(JSON.parse(text))
    response.writeHead(statuses.shift() ?? 200).end()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  cleanups.push(() => new Promise((resolve) => server.close(() => resolve())))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, bodies }
}
