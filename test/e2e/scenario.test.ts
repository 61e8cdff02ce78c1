/**
 * Scenario's API against the real server (child process on 127.0.0.1, port 0; SQLite and local disk in a
 * temp dir; the tiny SD model on the CPU), driven with plain `fetch` the way Scenario's document describes:
 * Basic `key:secret`, `POST /generate/txt2img`, poll `GET /jobs/{jobId}` until `success`, then read each of
 * `metadata.assetIds` through `GET /assets/{assetId}` and download `asset.url`. Every answer is validated
 * against the schema Scenario's OpenAPI document gives for that route and status.
 */
import { createHash } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createScenarioValidator, specPathOf } from '../../src/api/scenario/testing/openapi-validator.js'
import { makeTestModel, type ServerProcess, startServer, tempDir } from '../integration/server-harness.js'

const KEY = 'scenario-key'
const SECRET = 'scenario-secret'
const AUTH = { authorization: `Basic ${Buffer.from(`${KEY}:${SECRET}`).toString('base64')}` }
const validator = createScenarioValidator()
/** Small and quick on the CPU; every test that makes images uses these unless it is about them. */
const SMALL = { modelId: 'tiny-sd', width: 64, height: 64, numInferenceSteps: 4 }

let server: ServerProcess
let api: string

beforeAll(async () => {
  const model = await makeTestModel()
  server = await startServer([
    '--data-dir',
    tempDir('scenario'),
    '--model',
    model,
    '--alias',
    'chroma=tiny-sd',
    '--api-key',
    `${KEY}:${SECRET}`,
  ])
  api = `${server.url}/scenario/v1`
})

afterAll(async () => {
  await server?.stop()
})

interface Answer {
  readonly status: number
  // biome-ignore lint/suspicious/noExplicitAny: bodies are read field by field after schema validation
  readonly body: any
}

async function call(
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  body?: unknown,
  auth = AUTH,
): Promise<Answer> {
  const response = await fetch(`${api}${path}`, {
    method,
    headers: { ...auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  const answer = { status: response.status, body: await response.json() }
  validator.assertResponse(method, specPathOf(path, ''), answer.status, answer.body)
  return answer
}

async function submit(body: Record<string, unknown>, query = ''): Promise<Answer> {
  return call('POST', `/generate/txt2img${query}`, { prompt: 'a red cube on a table', ...SMALL, ...body })
}

/** Polls the job as Scenario's clients do until `until` holds; fails after `timeoutMs`. */
// biome-ignore lint/suspicious/noExplicitAny: a validated Scenario job
async function pollJob(jobId: string, until: (job: any) => boolean, timeoutMs = 60_000): Promise<any> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const { status, body } = await call('GET', `/jobs/${jobId}`)
    expect(status).toBe(200)
    if (until(body.job)) return body.job
    if (Date.now() > deadline) throw new Error(`job ${jobId} still ${body.job.status} after ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

const ENDED = new Set(['success', 'failure', 'canceled'])

interface Image {
  readonly seed: string
  readonly width: number
  readonly height: number
  readonly sha256: string
}

/** Generates, waits for success, and downloads every image through its asset's signed URL. */
async function generate(body: Record<string, unknown>): Promise<{ jobId: string; images: Image[] }> {
  const { status, body: answer } = await submit(body)
  expect(status).toBe(200)
  const job = await pollJob(answer.job.jobId, (polled) => ENDED.has(polled.status))
  expect(job.status).toBe('success')
  const images: Image[] = []
  for (const assetId of job.metadata.assetIds) {
    const { body: found } = await call('GET', `/assets/${assetId}`)
    const file = await fetch(found.asset.url)
    expect(file.status).toBe(200)
    expect(file.headers.get('content-type')).toBe(found.asset.mimeType)
    const bytes = Buffer.from(await file.arrayBuffer())
    // PNG: the IHDR chunk holds width and height right after the signature and chunk header
    expect(bytes.subarray(1, 4).toString('latin1')).toBe('PNG')
    images.push({
      seed: found.asset.metadata.seed,
      width: bytes.readUInt32BE(16),
      height: bytes.readUInt32BE(20),
      sha256: createHash('sha256').update(bytes).digest('hex'),
    })
  }
  return { jobId: answer.job.jobId, images }
}

describe('Scenario txt2img, end to end', () => {
  it('makes numSamples images with consecutive seeds, at the size asked', async () => {
    const { images } = await generate({ numSamples: 3, seed: '41', width: 96, height: 64 })
    expect(images.map((image) => image.seed)).toEqual(['41', '42', '43'])
    expect(images.every((image) => image.width === 96 && image.height === 64)).toBe(true)
    expect(new Set(images.map((image) => image.sha256)).size).toBe(3)
  })

  it('reproduces an image from its seed, and a different seed changes it', async () => {
    const first = await generate({ numSamples: 1, seed: '1234' })
    const again = await generate({ numSamples: 1, seed: 1234 })
    const other = await generate({ numSamples: 1, seed: '1235' })
    expect(again.images[0].sha256).toBe(first.images[0].sha256)
    expect(other.images[0].sha256).not.toBe(first.images[0].sha256)
  })

  it('derives the missing side from aspectRatio', async () => {
    const { images } = await generate({
      numSamples: 1,
      seed: '3',
      width: 64,
      height: undefined,
      aspectRatio: '2:3',
    })
    expect(images[0]).toMatchObject({ width: 64, height: 96 })
  })

  it('changes the sampler with the diffusers scheduler name', async () => {
    const euler = await generate({ numSamples: 1, seed: '9', scheduler: 'EulerDiscreteScheduler' })
    const heun = await generate({ numSamples: 1, seed: '9', scheduler: 'HeunDiscreteScheduler' })
    expect(heun.images[0].sha256).not.toBe(euler.images[0].sha256)
    const job = (await call('GET', `/jobs/${heun.jobId}`)).body.job
    expect(job.metadata.input.scheduler).toBe('HeunDiscreteScheduler')
  })

  it('keeps hideResults images out of the asset list but readable by id', async () => {
    const shown = await generate({ numSamples: 1, seed: '20' })
    const hidden = await generate({ numSamples: 1, seed: '21', hideResults: true })
    const listed = await call('GET', '/assets?pageSize=100')
    const jobs = new Set(
      listed.body.assets.map((asset: { metadata: { inferenceId: string } }) => asset.metadata.inferenceId),
    )
    expect(jobs.has(shown.jobId)).toBe(true)
    expect(jobs.has(hidden.jobId)).toBe(false)
    const job = (await call('GET', `/jobs/${hidden.jobId}`)).body.job
    const asset = (await call('GET', `/assets/${job.metadata.assetIds[0]}`)).body.asset
    expect(asset.isHidden).toBe(true)
  })

  it('answers a dry run with 269 and its cost, and queues nothing', async () => {
    const before = (await call('GET', '/jobs?pageSize=200')).body.jobs.length
    const { status, body } = await submit({ numSamples: 2 }, '?dryRun=true')
    expect(status).toBe(269)
    expect(body.creativeUnitsCost).toBeGreaterThan(0)
    expect((await call('GET', '/jobs?pageSize=200')).body.jobs.length).toBe(before)
  })

  it('cancels a queued or running job', async () => {
    const slow = { width: 128, height: 128, numInferenceSteps: 150, numSamples: 1 }
    const { body } = await submit(slow)
    const jobId = body.job.jobId
    const action = await call('POST', `/jobs/${jobId}/action`, { action: 'cancel' })
    expect(action.status).toBe(200)
    const job = await pollJob(jobId, (polled) => ENDED.has(polled.status))
    expect(job.status).toBe('canceled')
    expect(job.metadata.assetIds).toEqual([])
  })

  it('deletes images', async () => {
    const { jobId } = await generate({ numSamples: 1, seed: '30' })
    const [assetId] = (await call('GET', `/jobs/${jobId}`)).body.job.metadata.assetIds
    expect((await call('DELETE', '/assets', { assetIds: [assetId] })).status).toBe(200)
    expect((await call('GET', `/assets/${assetId}`)).status).toBe(404)
  })
})

describe('Scenario models, jobs and errors, end to end', () => {
  it('lists the models and finds one by name, alias and "default"', async () => {
    const { body } = await call('GET', '/models')
    expect(body.models.map((model: { id: string }) => model.id)).toContain('tiny-sd')
    for (const name of ['tiny-sd', 'chroma', 'default']) {
      expect((await call('GET', `/models/${name}`)).body.model.id, name).toBe('tiny-sd')
    }
    expect((await call('GET', '/models/nope')).status).toBe(404)
  })

  it('pages the job list with pageSize and paginationToken', async () => {
    const first = await call('GET', '/jobs?pageSize=2')
    expect(first.body.jobs).toHaveLength(2)
    const token = first.body.nextPaginationToken
    expect(typeof token).toBe('string')
    const second = await call('GET', `/jobs?pageSize=2&paginationToken=${encodeURIComponent(token)}`)
    const ids = [...first.body.jobs, ...second.body.jobs].map((job: { jobId: string }) => job.jobId)
    expect(new Set(ids).size).toBe(ids.length)
  })

  it('answers bad input with Scenario’s error body and a 4xx, never a 500', async () => {
    const cases: [Record<string, unknown>, number][] = [
      [{ prompt: undefined }, 400],
      [{ numSamples: 'two' }, 400],
      [{ width: 4096 }, 400],
      [{ guidance: -1 }, 400],
      [{ scheduler: 'SuperScheduler' }, 400],
      [{ aspectRatio: '5:7' }, 400],
      [{ modelId: 'no-such-model' }, 404],
    ]
    for (const [body, status] of cases) {
      const answer = await submit(body)
      expect(answer.status, JSON.stringify(body)).toBe(status)
      expect(typeof answer.body.apiError).toBe('string')
    }
  })

  it('refuses requests without the Basic key:secret', async () => {
    const missing = await call('GET', '/models', undefined, { authorization: '' })
    expect(missing.status).toBe(401)
    const wrong = { authorization: `Basic ${Buffer.from(`${KEY}:nope`).toString('base64')}` }
    expect((await call('GET', '/models', undefined, wrong)).status).toBe(401)
  })

  it('reports usage per model', async () => {
    const { body } = await call('GET', '/usages?timeRange=1d')
    const usage = body.modelUsages.find((entry: { modelId: string }) => entry.modelId === 'tiny-sd')
    expect(usage.points[0].jobs).toBeGreaterThan(0)
  })
})
