/**
 * Limits over time against the real server: a full queue answers 429 with Retry-After (one worker, queue
 * limit 1), and finished jobs expire with their images after a short retention.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type JobBody,
  makeTestModel,
  pollJob,
  postJson,
  type ServerProcess,
  startServer,
  tempDir,
} from './server-harness.js'

let server: ServerProcess
let base: string
const small = { width: 64, height: 64, steps: 4 }

beforeAll(async () => {
  const model = await makeTestModel()
  server = await startServer([
    '--data-dir',
    tempDir('limits'),
    '--model',
    model,
    '--workers',
    '1',
    '--queue-limit',
    '1',
    '--retention',
    '5s',
    '--no-log-prompts',
  ])
  base = server.url
})

afterAll(async () => {
  await server?.stop()
})

describe('backpressure', () => {
  it('answers 429 with Retry-After beyond the queue limit, and accepts work again once it drains', async () => {
    const running = (await (
      await postJson(`${base}/api/generations`, {
        prompt: 'a',
        width: 128,
        height: 128,
        steps: 150,
        async: true,
      })
    ).json()) as JobBody
    await pollJob(base, running.id, (job) => job.state === 'running')
    const waiting = await postJson(`${base}/api/generations`, { prompt: 'b', ...small, async: true })
    expect(waiting.status).toBe(202)

    const refused = await postJson(`${base}/api/generations`, { prompt: 'c', ...small, async: true })
    expect(refused.status).toBe(429)
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    const { error } = (await refused.json()) as { error: { code: string; message: string } }
    expect(error.code).toBe('QUEUE_FULL')

    await fetch(`${base}/api/jobs/${running.id}/cancel`, { method: 'POST' })
    await pollJob(base, ((await waiting.json()) as JobBody).id)
    const accepted = await postJson(`${base}/api/generations`, { prompt: 'd', ...small })
    expect(accepted.status).toBe(200)
  })
})

describe('retention', () => {
  it('expires a finished job and deletes its images after the retention period', async () => {
    const response = await postJson(`${base}/api/generations`, { prompt: 'short-lived', ...small })
    expect(response.status).toBe(200)
    const job = (await response.json()) as JobBody
    const [image] = job.images
    expect((await fetch(image.url)).status).toBe(200)

    const expired = await pollJob(base, job.id, (current) => current.state === 'expired', 30_000)
    expect(expired.images).toEqual([])
    // The sweeper marks the job expired, then deletes its images: each link goes 404 (or 410) shortly after.
    for (const link of [`${base}/api/assets/${image.assetId}`, image.fileUrl, image.url]) {
      expect([404, 410]).toContain(await statusOnceGone(link, 10_000))
    }

    const queuedLine = server.logs.find((line) => line.msg === 'job queued' && line.jobId === job.id)
    expect(queuedLine).toMatchObject({ jobId: job.id, requestId: expect.any(String) })
    expect(JSON.stringify(server.logs)).not.toContain('short-lived')
  })
})

describe('startup', () => {
  it('refuses to start on a bad setting, naming it and where it came from', async () => {
    await expect(startServer(['--workers', '-1'], { PIGMENT_RETENTION: 'forever' })).rejects.toThrow(
      /exited \(2\)[\s\S]*retentionSeconds \(from environment PIGMENT_RETENTION\)/,
    )
  })
})

/** Polls a link until it stops answering 200, or the time runs out; returns the last status. */
async function statusOnceGone(url: string, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const { status } = await fetch(url)
    if (status !== 200 || Date.now() > deadline) return status
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}
