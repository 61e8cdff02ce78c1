/**
 * The native API against the real server (child process, SQLite and local disk in a temp dir, the tiny SD
 * model on the CPU): sync, async + poll, the event stream, cancel, signed image links, bad input, and the
 * operator routes.
 */
import { request as httpRequest } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type JobBody,
  makeTestModel,
  parseEvents,
  pollJob,
  postJson,
  readEvents,
  type ServerProcess,
  startServer,
  tempDir,
} from './server-harness.js'

let server: ServerProcess
let base: string
const small = { width: 64, height: 64, steps: 4 }
/**
 * Long enough to be seen running and canceled: 150 steps at 512×512 (several seconds; at 128×128 the job once
 * finished between two polls when the engine got faster).
 */
const slow = { width: 512, height: 512, steps: 150 }

beforeAll(async () => {
  const model = await makeTestModel()
  server = await startServer(['--data-dir', tempDir('api'), '--model', model, '--alias', 'chroma=tiny-sd'])
  base = server.url
})

afterAll(async () => {
  await server?.stop()
})

/**
 * Announces a JSON body of `bytes` and starts sending it; resolves with the server's answer. The server
 * answers as soon as it sees the length, so the rest of the body is never sent (and a write error after the
 * answer, the server having closed the socket, is expected).
 */
function postLarge(url: string, bytes: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': bytes },
    })
    let answered = false
    request.on('response', (response) => {
      answered = true
      let text = ''
      response.on('data', (chunk: Buffer) => {
        text += chunk.toString('utf8')
      })
      response.on('end', () => {
        resolve({ status: response.statusCode ?? 0, body: text })
        request.destroy()
      })
    })
    request.on('error', (error) => {
      if (!answered) reject(error)
    })
    request.write(`{"prompt":"${'x'.repeat(64 * 1024)}`)
  })
}

async function submitAsync(body: object): Promise<JobBody> {
  const response = await postJson(`${base}/api/generations`, { ...body, async: true })
  expect(response.status).toBe(202)
  return (await response.json()) as JobBody
}

describe('generations', () => {
  it('answers a sync request with the images, fetchable through their signed links', async () => {
    const response = await postJson(`${base}/api/generations`, {
      prompt: 'a red cube',
      ...small,
      n: 2,
      seed: 11,
    })
    expect(response.status).toBe(200)
    const job = (await response.json()) as JobBody & { request: { seed: number; model: string } }
    expect(job.state).toBe('succeeded')
    expect(job.request).toMatchObject({ seed: 11, model: 'tiny-sd' })
    expect(job.images).toHaveLength(2)
    const image = await fetch(job.images[0].url)
    expect(image.status).toBe(200)
    expect(image.headers.get('content-type')).toBe('image/png')
    const bytes = new Uint8Array(await image.arrayBuffer())
    expect([...bytes.subarray(1, 4)]).toEqual([0x50, 0x4e, 0x47]) // "PNG"
    const viaApi = await fetch(job.images[1].fileUrl)
    expect(viaApi.status).toBe(200)
    const forged = job.images[0].url.replace(/sig=[0-9a-f]{4}/, 'sig=0000')
    expect((await fetch(forged)).status).toBe(403)
  })

  it('answers an async request with 202 and a Location to poll', async () => {
    const response = await postJson(
      `${base}/api/generations`,
      { prompt: 'async', ...small },
      { prefer: 'respond-async' },
    )
    expect(response.status).toBe(202)
    const location = response.headers.get('location')
    expect(location).toMatch(/^\/api\/jobs\/[0-9a-z]{26}$/)
    const job = (await response.json()) as JobBody
    const done = await pollJob(base, job.id)
    expect(done.state).toBe('succeeded')
    expect(done.images).toHaveLength(1)
    expect(new URL(location!, base).pathname).toBe(`/api/jobs/${job.id}`)
  })

  it('streams at least one progress event per step, then the final event; Last-Event-ID replays', async () => {
    const job = await submitAsync({ prompt: 'streamed', ...small, steps: 6, model: 'chroma' })
    const events = await readEvents(`${base}/api/jobs/${job.id}/events`)
    const steps = new Set(
      events
        .filter((event) => event.event === 'progress')
        .map((event) => (event.data as { step: number }).step),
    )
    expect([...steps].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6])
    const final = events.at(-1)!
    expect(final.event).toBe('succeeded')
    expect((final.data as { job: JobBody }).job.images).toHaveLength(1)

    const progress = events.filter((event) => event.event === 'progress')
    const resumeFrom = progress[2].id!
    const replay = await fetch(`${base}/api/jobs/${job.id}/events`, {
      headers: { 'last-event-id': resumeFrom },
    })
    const replayed = parseEvents(await replay.text())
    expect(replayed.map((event) => event.id)).toEqual(
      events.filter((e) => Number(e.id) > Number(resumeFrom)).map((e) => e.id),
    )
    const afterEnd = await fetch(`${base}/api/jobs/${job.id}/events`, {
      headers: { 'last-event-id': final.id! },
    })
    expect(afterEnd.status).toBe(204)
  })

  it('cancels a queued job at once and a running job at its next step', async () => {
    const running = await submitAsync({ prompt: 'long', ...slow })
    await pollJob(base, running.id, (job) => job.state === 'running' && (job.progress?.step ?? 0) >= 1)
    const queued = await submitAsync({ prompt: 'waiting', ...small })
    const canceledQueued = await fetch(`${base}/api/jobs/${queued.id}/cancel`, { method: 'POST' })
    expect(canceledQueued.status).toBe(200)
    expect(((await canceledQueued.json()) as JobBody).state).toBe('canceled')

    const canceling = await fetch(`${base}/api/jobs/${running.id}/cancel`, { method: 'POST' })
    expect(canceling.status).toBe(202)
    const stopped = await pollJob(base, running.id)
    expect(stopped.state).toBe('canceled')
    expect(stopped.progress!.step).toBeLessThan(slow.steps)
    expect(stopped.images).toEqual([])
    const again = await fetch(`${base}/api/jobs/${running.id}/cancel`, { method: 'POST' })
    expect(again.status).toBe(409)
  })
})

describe('bad input', () => {
  it('answers 4xx naming the field, and a good request succeeds afterwards', async () => {
    const cases: [unknown, number, string][] = [
      [{ prompt: 7 }, 400, 'prompt'],
      [{ prompt: 'x', steps: 'many' }, 400, 'steps'],
      [{ width: 64 }, 400, 'prompt'],
      [{ prompt: 'x', width: 7 }, 400, 'width'],
      [{ prompt: 'x', width: 100000 }, 400, 'width'],
      [{ prompt: 'x', n: 10000 }, 400, 'n'],
      [{ prompt: 'x', steps: 1e9 }, 400, 'steps'],
      [{ prompt: 'x', sampler: 'unknown_sampler' }, 400, 'sampler'],
      [{ prompt: 'x', scheduler: 'unknown_scheduler' }, 400, 'scheduler'],
      [{ prompt: 'x', model: 'no-such-model' }, 404, 'model'],
    ]
    for (const [body, status, field] of cases) {
      const response = await postJson(`${base}/api/generations`, body)
      const { error } = (await response.json()) as { error: { code: string; message: string; field: string } }
      expect({ body, status: response.status, field: error.field }).toEqual({ body, status, field })
      expect(error.message).toContain(field)
    }

    const malformed = await fetch(`${base}/api/generations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"prompt": "unterminated',
    })
    expect(malformed.status).toBe(400)
    expect(((await malformed.json()) as { error: { message: string } }).error.message).toMatch(/JSON/)
    const wrongType = await fetch(`${base}/api/generations`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'a red cube',
    })
    expect(wrongType.status).toBe(415)
    const huge = await postLarge(`${base}/api/generations`, 20 * 1024 * 1024)
    expect(huge.status).toBe(413)
    expect(huge.body).toContain('PAYLOAD_TOO_LARGE')

    for (const path of [
      '/api/jobs/..%2F..%2Fpigment.db',
      '/api/assets/..%2Fsigning-secret/file',
      '/files/..%2Fsigning-secret',
    ]) {
      const response = await fetch(`${base}${path}`)
      expect(response.status).toBeGreaterThanOrEqual(400)
      expect(response.status).toBeLessThan(500)
      const text = await response.text()
      expect(text).not.toMatch(/[0-9a-f]{64}/) // the secret never leaks
    }

    const good = await postJson(`${base}/api/generations`, { prompt: 'still fine', ...small })
    expect(good.status).toBe(200)
  })
})

describe('operations', () => {
  it('reports health, readiness, metrics, the job list and the OpenAPI document', async () => {
    expect((await fetch(`${base}/healthz`)).status).toBe(200)
    const ready = await fetch(`${base}/readyz`)
    expect(ready.status).toBe(200)
    const metrics = await (await fetch(`${base}/metrics`)).text()
    expect(metrics).toMatch(/^pigment_images_generated_total\{model="tiny-sd"\} \d+$/m)
    expect(metrics).toMatch(/^pigment_step_duration_seconds_count \d+$/m)
    expect(metrics).toMatch(/^pigment_job_duration_seconds_count\{outcome="succeeded"\} \d+$/m)
    expect(metrics).toContain('pigment_queue_depth{state="queued"}')
    expect(metrics).toMatch(/^pigment_errors_total\{code="VALIDATION_FAILED",source="http"\} \d+$/m)

    const page = (await (await fetch(`${base}/api/jobs?state=succeeded&limit=2`)).json()) as {
      jobs: JobBody[]
      nextCursor: string | null
    }
    expect(page.jobs).toHaveLength(2)
    expect(page.nextCursor).not.toBeNull()
    const next = (await (
      await fetch(`${base}/api/jobs?state=succeeded&limit=2&cursor=${page.nextCursor}`)
    ).json()) as {
      jobs: JobBody[]
    }
    expect(next.jobs.map((job) => job.id)).not.toContain(page.jobs[0].id)

    const spec = (await (await fetch(`${base}/openapi.json`)).json()) as { openapi: string; paths: object }
    expect(spec.openapi).toBe('3.1.0')
    expect(spec.paths).toHaveProperty('/api/generations')
    expect((await fetch(`${base}/docs/`)).status).toBe(200)

    const queued = server.logs.find((line) => line.msg === 'job queued' && line.prompt === 'a red cube')
    expect(queued).toMatchObject({
      jobId: expect.stringMatching(/^[0-9a-z]{26}$/),
      requestId: expect.any(String),
    })
  })
})
