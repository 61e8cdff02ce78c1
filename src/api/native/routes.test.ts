import type { FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { buildApp } from '../../app.js'
import { type FakeDeps, fakeDeps } from '../shared/testing/fake-deps.js'

let app: FastifyInstance | undefined

afterEach(async () => {
  await app?.close()
  app = undefined
})

async function start(deps: FakeDeps = fakeDeps()) {
  app = await buildApp(deps)
  return { app, deps }
}

function generate(body: unknown, headers: Record<string, string> = {}) {
  return app!.inject({ method: 'POST', url: '/api/generations', payload: body as object, headers })
}

describe('POST /api/generations', () => {
  it('answers synchronously with the finished job, its images and the manifest defaults', async () => {
    const { deps } = await start()
    deps.worker.autoRun()
    const response = await generate({ prompt: 'a red cube', n: 2, seed: 5 })
    expect(response.statusCode).toBe(200)
    expect(response.headers['x-request-id']).toBeTruthy()
    const job = response.json()
    expect(job.state).toBe('succeeded')
    expect(job.request).toMatchObject({ model: 'tiny', width: 64, height: 64, steps: 4, seed: 5, n: 2 })
    expect(job.request.seedWasRandom).toBe(false)
    expect(job.images).toHaveLength(2)
    expect(job.images[1]).toMatchObject({ seed: 6, format: 'png' })
    // the server's own address (config host:port under inject), never the Host header
    expect(job.images[0].fileUrl).toMatch(/^http:\/\/127\.0\.0\.1:7860\/api\/assets\/[0-9a-z]{26}\/file$/)
    const file = await app!.inject({ url: new URL(job.images[0].fileUrl).pathname })
    expect(file.statusCode).toBe(200)
    expect(file.headers['content-type']).toBe('image/png')
    expect(file.body).toBe(`image ${job.id} 0`)
  })

  it('answers 202 with a Location when asked for async, by body or by Prefer header', async () => {
    await start()
    for (const [body, headers] of [
      [{ prompt: 'x', async: true }, {}],
      [{ prompt: 'x' }, { prefer: 'wait=5, respond-async' }],
    ] as const) {
      const response = await generate(body, headers)
      expect(response.statusCode).toBe(202)
      const job = response.json()
      expect(response.headers.location).toBe(`/api/jobs/${job.id}`)
      expect(job.state).toBe('queued')
      expect(typeof job.queuePosition).toBe('number')
      const polled = await app!.inject({ url: response.headers.location as string })
      expect(polled.json().id).toBe(job.id)
    }
  })

  it('answers 202 with the job when the bounded sync wait runs out', async () => {
    await start(fakeDeps({ config: { syncTimeoutSeconds: 0.05 } }))
    const response = await generate({ prompt: 'slow' })
    expect(response.statusCode).toBe(202)
    expect(response.json().state).toBe('queued')
  })

  it('answers a failed sync job with its error code and status', async () => {
    const { deps } = await start()
    const pending = generate({ prompt: 'x' })
    await new Promise((resolve) => setTimeout(resolve, 20))
    const [job] = deps.jobs.jobs.values()
    deps.worker.start(job.id)
    deps.worker.fail(job.id, 'MODEL_OUT_OF_MEMORY', 'out of memory at 64x64')
    const response = await pending
    expect(response.statusCode).toBe(507)
    expect(response.json()).toEqual({
      error: { code: 'MODEL_OUT_OF_MEMORY', message: 'out of memory at 64x64', jobId: job.id },
    })
  })

  it('rejects bad input with 4xx naming the field, and keeps serving', async () => {
    const { deps } = await start()
    const cases: [unknown, number, string][] = [
      [{ prompt: 123 }, 400, 'prompt'],
      [{ width: 64 }, 400, 'prompt'],
      [{ prompt: '' }, 400, 'prompt'],
      [{ prompt: 'x', width: 7 }, 400, 'width'],
      [{ prompt: 'x', width: 100000 }, 400, 'width'],
      [{ prompt: 'x', width: 100 }, 400, 'width'],
      [{ prompt: 'x', width: '64' }, 400, 'width'],
      [{ prompt: 'x', width: true }, 400, 'width'],
      [{ prompt: 'x', n: 10000 }, 400, 'n'],
      [{ prompt: 'x', n: 9 }, 400, 'n'],
      [{ prompt: 'x', steps: 1e9 }, 400, 'steps'],
      [{ prompt: 'x', steps: 51 }, 400, 'steps'],
      [{ prompt: 'x', sampler: 'warp_drive' }, 400, 'sampler'],
      [{ prompt: 'x', scheduler: 'sometimes' }, 400, 'scheduler'],
      [{ prompt: 'x', model: 'nope' }, 404, 'model'],
      [{ prompt: 'x', outputFormat: 'gif' }, 400, 'outputFormat'],
      [{ prompt: 'x', colour: 'red' }, 400, 'colour'],
    ]
    for (const [body, status, field] of cases) {
      const response = await generate(body)
      expect({ body, status: response.statusCode }).toEqual({ body, status })
      const { error } = response.json()
      expect(error.field).toBe(field)
      expect(error.message).toContain(field)
    }
    expect(deps.jobs.jobs.size).toBe(0)
    deps.worker.autoRun()
    expect((await generate({ prompt: 'still serving' })).statusCode).toBe(200)
  })

  it('maps malformed JSON, wrong content type and oversized bodies to 400, 415 and 413', async () => {
    await start(fakeDeps({ config: { bodyLimitBytes: 1024 * 1024 } }))
    const malformed = await app!.inject({
      method: 'POST',
      url: '/api/generations',
      payload: '{"prompt": ',
      headers: { 'content-type': 'application/json' },
    })
    expect(malformed.statusCode).toBe(400)
    expect(malformed.json().error).toMatchObject({ code: 'VALIDATION_FAILED', field: 'body' })
    const text = await app!.inject({
      method: 'POST',
      url: '/api/generations',
      payload: 'prompt=x',
      headers: { 'content-type': 'text/plain' },
    })
    expect(text.statusCode).toBe(415)
    expect(text.json().error.code).toBe('UNSUPPORTED_MEDIA_TYPE')
    const empty = await app!.inject({
      method: 'POST',
      url: '/api/generations',
      headers: { 'content-type': 'application/json' },
    })
    expect(empty.statusCode).toBe(400)
    expect(empty.json().error.field).toBe('body')
    const poisoned = await app!.inject({
      method: 'POST',
      url: '/api/generations',
      payload: '{"prompt": "x", "__proto__": {"admin": true}}',
      headers: { 'content-type': 'application/json' },
    })
    expect(poisoned.statusCode).toBe(400)
    const huge = await generate({ prompt: 'x'.repeat(2 * 1024 * 1024) })
    expect(huge.statusCode).toBe(413)
    expect(huge.json().error.code).toBe('PAYLOAD_TOO_LARGE')
  })

  it('answers 429 with Retry-After when the queue is full, 503 while shutting down', async () => {
    const { deps } = await start()
    deps.jobs.limit = 1
    expect((await generate({ prompt: 'a', async: true })).statusCode).toBe(202)
    const full = await generate({ prompt: 'b', async: true })
    expect(full.statusCode).toBe(429)
    expect(full.headers['retry-after']).toBe('7')
    expect(full.json().error.code).toBe('QUEUE_FULL')
    deps.state.accepting = false
    const closing = await generate({ prompt: 'c', async: true })
    expect(closing.statusCode).toBe(503)
    expect(closing.headers['retry-after']).toBeDefined()
  })
})

describe('jobs', () => {
  it('lists with state filter and cursor pagination', async () => {
    const { deps } = await start()
    const ids: string[] = []
    for (let i = 0; i < 5; i++) ids.push((await generate({ prompt: `p${i}`, async: true })).json().id)
    deps.worker.start(ids[0])
    const first = (await app!.inject({ url: '/api/jobs?limit=2&state=queued' })).json()
    expect(first.jobs.map((job: { id: string }) => job.id)).toEqual([ids[4], ids[3]])
    const second = (
      await app!.inject({ url: `/api/jobs?limit=2&state=queued&cursor=${first.nextCursor}` })
    ).json()
    expect(second.jobs.map((job: { id: string }) => job.id)).toEqual([ids[2], ids[1]])
    const running = (await app!.inject({ url: '/api/jobs?state=running,succeeded' })).json()
    expect(running.jobs.map((job: { id: string }) => job.id)).toEqual([ids[0]])
    const bad = await app!.inject({ url: '/api/jobs?state=sleeping' })
    expect(bad.statusCode).toBe(400)
    expect(bad.json().error.field).toBe('state')
    expect((await app!.inject({ url: '/api/jobs?limit=1000' })).json().error.field).toBe('limit')
  })

  it('cancels queued jobs at once, running ones at their next step, and refuses finished ones', async () => {
    const { deps } = await start()
    const queued = (await generate({ prompt: 'a', async: true })).json()
    const canceled = await app!.inject({ method: 'POST', url: `/api/jobs/${queued.id}/cancel` })
    expect(canceled.statusCode).toBe(200)
    expect(canceled.json().state).toBe('canceled')
    const again = await app!.inject({
      method: 'POST',
      url: `/api/jobs/${queued.id}/cancel`,
      headers: { 'content-type': 'application/json' },
    })
    expect(again.statusCode).toBe(409)
    const running = (await generate({ prompt: 'b', async: true })).json()
    deps.worker.start(running.id)
    const flagged = await app!.inject({ method: 'POST', url: `/api/jobs/${running.id}/cancel` })
    expect(flagged.statusCode).toBe(202)
    expect(flagged.json().state).toBe('running')
  })

  it('rejects ids that are not ids, traversal included, without looking them up', async () => {
    await start()
    for (const url of [
      '/api/jobs/..%2F..%2Fetc%2Fpasswd',
      '/api/assets/..%2F..%2Fdata%2Fpigment.db/file',
      '/api/assets/01HZZZZZZZZZZZZZZZZZZZZZZZ',
    ]) {
      const response = await app!.inject({ url })
      expect(response.statusCode).toBe(400)
      expect(response.json().error.field).toBe('id')
    }
    // Dot segments are resolved by the router before matching, so these never reach an id route.
    for (const url of ['/api/jobs/%2e%2e', '/api/jobs/../../etc/passwd']) {
      const response = await app!.inject({ url })
      expect(response.statusCode).toBe(404)
      expect(response.json().error.code).toBe('NOT_FOUND')
    }
    const missing = await app!.inject({ url: '/api/jobs/0123456789abcdefghjkmnpqrs' })
    expect(missing.statusCode).toBe(404)
    expect(missing.json().error.code).toBe('JOB_NOT_FOUND')
  })
})

describe('assets and models', () => {
  it('shows, serves and deletes an image; an expired one is 410', async () => {
    const { deps } = await start()
    deps.worker.autoRun()
    const job = (await generate({ prompt: 'x' })).json()
    const assetId = job.images[0].assetId
    const asset = await app!.inject({ url: `/api/assets/${assetId}` })
    expect(asset.json()).toMatchObject({ id: assetId, jobId: job.id, width: 64, format: 'png' })
    expect((await app!.inject({ method: 'DELETE', url: `/api/assets/${assetId}` })).statusCode).toBe(204)
    expect((await app!.inject({ url: `/api/assets/${assetId}/file` })).statusCode).toBe(404)

    const other = (await generate({ prompt: 'y' })).json()
    const record = deps.assets.records.get(other.images[0].assetId)!
    deps.assets.records.set(record.id, { ...record, expiresAt: new Date(Date.now() - 1000) })
    const gone = await app!.inject({ url: `/api/assets/${record.id}/file` })
    expect(gone.statusCode).toBe(410)
    expect(gone.json().error.code).toBe('GONE')
  })

  it('lists models and warms one up', async () => {
    const { deps } = await start()
    const models = (await app!.inject({ url: '/api/models' })).json()
    expect(models.models[0]).toMatchObject({ name: 'tiny', aliases: ['alias'], isDefault: true })
    const warm = await app!.inject({ method: 'POST', url: '/api/models/alias/warmup' })
    expect(warm.json()).toMatchObject({ model: 'tiny', loaded: true })
    expect(deps.models).toHaveProperty('warmed', ['alias'])
    expect((await app!.inject({ method: 'POST', url: '/api/models/nope/warmup' })).statusCode).toBe(404)
  })
})

describe('operations', () => {
  it('serves health, readiness, metrics, OpenAPI 3.1 and the docs page', async () => {
    const { deps } = await start()
    expect((await app!.inject({ url: '/healthz' })).json()).toEqual({ status: 'ok' })
    expect((await app!.inject({ url: '/readyz' })).statusCode).toBe(200)
    await generate({ prompt: 'x', async: true })
    await generate({ prompt: 'x', width: 7 })
    const metrics = await app!.inject({ url: '/metrics' })
    expect(metrics.headers['content-type']).toContain('text/plain')
    expect(metrics.body).toContain('pigment_queue_depth{state="queued"} 1')
    expect(metrics.body).toContain('pigment_errors_total{code="VALIDATION_FAILED",source="http"} 1')
    const spec = (await app!.inject({ url: '/openapi.json' })).json()
    expect(spec.openapi).toBe('3.1.0')
    expect(Object.keys(spec.paths)).toEqual(
      expect.arrayContaining(['/api/generations', '/api/jobs/{id}/events']),
    )
    const docs = await app!.inject({ url: '/docs/' })
    expect(docs.statusCode).toBe(200)
    expect(docs.body).toContain('swagger')

    deps.state.accepting = false
    const unready = await app!.inject({ url: '/readyz' })
    expect(unready.statusCode).toBe(503)
    expect(unready.json().checks.accepting).toBe(false)
  })

  it('answers unknown routes in the same error shape', async () => {
    await start()
    const response = await app!.inject({ url: '/api/nothing' })
    expect(response.statusCode).toBe(404)
    expect(response.json().error.code).toBe('NOT_FOUND')
  })
})
