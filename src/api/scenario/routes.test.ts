import type { FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { buildApp } from '../../app.js'
import { JobSettler } from '../../credits/job-settlement.js'
import type { DatabaseHandle } from '../../db/connect.js'
import { openTestDatabase } from '../../db/test-databases.js'
import { openAccounts } from '../../keys/accounts.js'
import { createAuthenticator } from '../auth.js'
import { type FakeDeps, fakeDeps } from '../shared/testing/fake-deps.js'
import { createScenarioValidator, specPathOf } from './testing/openapi-validator.js'

const validator = createScenarioValidator()
const BASE = '/scenario/v1'

let app: FastifyInstance | undefined

afterEach(async () => {
  await app?.close()
  app = undefined
})

async function start(deps: FakeDeps = fakeDeps()) {
  app = await buildApp(deps)
  return deps
}

interface Call {
  readonly method?: 'GET' | 'POST' | 'DELETE'
  readonly url: string
  readonly payload?: unknown
  readonly headers?: Record<string, string>
}

/** Every answer is checked against the schema Scenario's document gives for that route and status. */
// biome-ignore lint/suspicious/noExplicitAny: response bodies are read field by field after schema validation
async function call({ method = 'GET', url, payload, headers }: Call): Promise<{ status: number; body: any }> {
  const response = await app!.inject({
    method,
    url: `${BASE}${url}`,
    ...(payload === undefined ? {} : { payload: payload as object }),
    ...(headers === undefined ? {} : { headers }),
  })
  const body = response.json()
  validator.assertResponse(method, specPathOf(url, ''), response.statusCode, body)
  return { status: response.statusCode, body }
}

function txt2img(payload: unknown, query = '') {
  return call({ method: 'POST', url: `/generate/txt2img${query}`, payload })
}

/** Queues a generation and lets the fake worker finish it; returns the job id. */
async function generated(deps: FakeDeps, body: Record<string, unknown> = {}): Promise<string> {
  const { status, body: answer } = await txt2img({
    modelId: 'tiny',
    prompt: 'a red cube',
    numSamples: 1,
    ...body,
  })
  expect(status).toBe(200)
  const jobId: string = answer.job.jobId
  deps.worker.start(jobId)
  await deps.worker.succeed(jobId)
  return jobId
}

describe('POST /generate/txt2img', () => {
  it('queues the job and answers with the inference, the job and its cost', async () => {
    const deps = await start()
    const { status, body } = await txt2img({
      modelId: 'tiny',
      prompt: 'a red cube',
      negativePrompt: 'blurry',
      numSamples: 2,
      numInferenceSteps: 6,
      guidance: 3,
      width: 256,
      height: 128,
      seed: '77',
    })
    expect(status).toBe(200)
    expect(body.job).toMatchObject({ status: 'queued', jobType: 'inference', progress: 0 })
    expect(body.inference).toMatchObject({
      type: 'txt2img',
      numSamples: 2,
      width: 256,
      height: 128,
      seed: '77',
    })
    expect(body.creativeUnitsCost).toBeGreaterThan(0)
    const request = deps.jobs.jobs.get(body.job.jobId)!.request
    expect(request).toMatchObject({
      model: 'tiny',
      n: 2,
      steps: 6,
      cfg: 3,
      width: 256,
      height: 128,
      seed: 77,
    })
    expect(request).toMatchObject({ negativePrompt: 'blurry', origin: { source: 'scenario' } })
  })

  it('makes numSamples images with consecutive seeds', async () => {
    const deps = await start()
    const jobId = await generated(deps, { numSamples: 3, seed: '41' })
    const { body } = await call({ url: `/jobs/${jobId}` })
    expect(body.job.status).toBe('success')
    expect(body.job.metadata.assetIds).toHaveLength(3)
    const seeds = []
    for (const id of body.job.metadata.assetIds) {
      const asset = (await call({ url: `/assets/${id}` })).body.asset
      seeds.push(asset.metadata.seed)
      expect(asset.url).toMatch(/^http:\/\/files\.test\//)
    }
    expect(seeds).toEqual(['41', '42', '43'])
  })

  it('derives the size from aspectRatio, within the model limits', async () => {
    const deps = await start()
    const { body } = await txt2img({ modelId: 'tiny', prompt: 'x', aspectRatio: '16:9' })
    expect(body.inference).toMatchObject({ width: 512, height: 288, aspectRatio: '16:9' })
    expect(deps.jobs.jobs.get(body.job.jobId)!.request).toMatchObject({ width: 512, height: 288 })
    const tall = await txt2img({ modelId: 'tiny', prompt: 'x', width: 256, aspectRatio: '2:3' })
    expect(tall.body.inference).toMatchObject({ width: 256, height: 384 })
  })

  it('sets the sampler and schedule from the diffusers scheduler name', async () => {
    const deps = await start()
    for (const [scheduler, sampler] of [
      ['KDPM2AncestralDiscreteScheduler', 'dpm_2_ancestral'],
      ['DDIMScheduler', 'ddim'],
    ]) {
      const { body } = await txt2img({ modelId: 'tiny', prompt: 'x', scheduler })
      expect(body.inference.scheduler).toBe(scheduler)
      expect(deps.jobs.jobs.get(body.job.jobId)!.request.sampler).toBe(sampler)
    }
  })

  it('resolves the model by alias and answers 404 in Scenario’s shape for an unknown one', async () => {
    const deps = await start()
    for (const modelId of ['alias', 'default']) {
      const { body } = await txt2img({ modelId, prompt: 'x' })
      expect(deps.jobs.jobs.get(body.job.jobId)!.request.model, modelId).toBe('tiny')
    }
    const missing = await txt2img({ modelId: 'nope', prompt: 'x' })
    expect(missing.status).toBe(404)
    expect(missing.body.apiError).toBe('MODEL_NOT_FOUND')
  })

  it('prices with the configured per-model cost factor', async () => {
    const base = fakeDeps()
    const credits = { ...base.config.credits, modelFactors: { tiny: 2 } }
    await start({ ...base, config: { ...base.config, credits } })
    const { body } = await txt2img(
      { modelId: 'tiny', prompt: 'x', numSamples: 1, width: 512, height: 512 },
      '?dryRun',
    )
    // 512×512 at 30 steps is 0.75 units at factor 1
    expect(body.creativeUnitsCost).toBe(1.5)
    const queued = await txt2img({ modelId: 'tiny', prompt: 'x', numSamples: 1, width: 512, height: 512 })
    expect(queued.body.job.billing.cuCost).toBe(1.5)
  })

  it('treats JSON null as a field not given, as Python clients send None', async () => {
    const deps = await start()
    const { status, body } = await txt2img({ modelId: 'tiny', prompt: 'x', seed: null, negativePrompt: null })
    expect(status).toBe(200)
    expect(deps.jobs.jobs.get(body.job.jobId)!.request).toMatchObject({
      negativePrompt: '',
      seedWasRandom: true,
    })
  })

  it('dryRun answers 269 with the cost and queues nothing', async () => {
    const deps = await start()
    const { status, body } = await txt2img({ modelId: 'tiny', prompt: 'x', numSamples: 2 }, '?dryRun=true')
    expect(status).toBe(269)
    expect(body).toEqual({ creativeUnitsCost: expect.any(Number), creativeUnitsDiscount: 0 })
    expect(body.creativeUnitsCost).toBeGreaterThan(0)
    const bigger = await txt2img({ modelId: 'tiny', prompt: 'x', numSamples: 4 }, '?dryRun=true')
    expect(bigger.body.creativeUnitsCost).toBeCloseTo(body.creativeUnitsCost * 2, 2)
    expect(deps.jobs.jobs.size).toBe(0)
    const invalid = await txt2img({ modelId: 'tiny', prompt: 'x', numSamples: 20 }, '?dryRun=true')
    expect(invalid.status).toBe(400)
    expect((await txt2img({ modelId: 'tiny', prompt: 'x' }, '?dryRun=false')).status).toBe(200)
  })

  it('answers bad input (wrong types, out of range, unknown enums, missing prompt) with 400 naming the field', async () => {
    await start()
    const cases: [string, unknown, string][] = [
      ['missing prompt', { modelId: 'tiny' }, 'prompt'],
      ['missing modelId', { prompt: 'x' }, 'modelId'],
      ['empty prompt', { modelId: 'tiny', prompt: '  ' }, 'prompt'],
      ['numSamples as text', { modelId: 'tiny', prompt: 'x', numSamples: '2' }, 'numSamples'],
      ['fractional numSamples', { modelId: 'tiny', prompt: 'x', numSamples: 1.5 }, 'numSamples'],
      ['numSamples over 128', { modelId: 'tiny', prompt: 'x', numSamples: 129 }, 'numSamples'],
      ['numSamples over the server limit', { modelId: 'tiny', prompt: 'x', numSamples: 20 }, 'numSamples'],
      ['guidance as text', { modelId: 'tiny', prompt: 'x', guidance: 'high' }, 'guidance'],
      ['guidance over 20', { modelId: 'tiny', prompt: 'x', guidance: 21 }, 'guidance'],
      ['zero steps', { modelId: 'tiny', prompt: 'x', numInferenceSteps: 0 }, 'numInferenceSteps'],
      ['151 steps', { modelId: 'tiny', prompt: 'x', numInferenceSteps: 151 }, 'numInferenceSteps'],
      ['width under 64', { modelId: 'tiny', prompt: 'x', width: 56 }, 'width'],
      ['width not a multiple of 8', { modelId: 'tiny', prompt: 'x', width: 100 }, 'width'],
      ['height over 2048', { modelId: 'tiny', prompt: 'x', height: 4096 }, 'height'],
      ['height over the model limit', { modelId: 'tiny', prompt: 'x', height: 1024 }, 'height'],
      ['unknown scheduler', { modelId: 'tiny', prompt: 'x', scheduler: 'Euler' }, 'scheduler'],
      ['unknown aspect ratio', { modelId: 'tiny', prompt: 'x', aspectRatio: '7:5' }, 'aspectRatio'],
      ['negative seed', { modelId: 'tiny', prompt: 'x', seed: '-1' }, 'seed'],
      ['seed as a word', { modelId: 'tiny', prompt: 'x', seed: 'lucky' }, 'seed'],
      ['hideResults as text', { modelId: 'tiny', prompt: 'x', hideResults: 'yes' }, 'hideResults'],
      ['LoRA concepts', { modelId: 'tiny', prompt: 'x', concepts: [{ modelId: 'm', scale: 1 }] }, 'concepts'],
      ['a prompt that is a number', { modelId: 'tiny', prompt: 5 }, 'prompt'],
    ]
    for (const [label, payload, field] of cases) {
      const { status, body } = await txt2img(payload)
      expect(status, label).toBe(400)
      expect(body.infos.field, label).toBe(field)
    }
  })

  it('refuses bodies that are not JSON objects with Scenario’s 4xx body', async () => {
    await start()
    const notJson = await app!.inject({
      method: 'POST',
      url: `${BASE}/generate/txt2img`,
      payload: '{"modelId":',
      headers: { 'content-type': 'application/json' },
    })
    expect(notJson.statusCode).toBe(400)
    validator.assertResponse('POST', '/generate/txt2img', 400, notJson.json())
    const text = await app!.inject({
      method: 'POST',
      url: `${BASE}/generate/txt2img`,
      payload: 'a red cube',
      headers: { 'content-type': 'text/plain' },
    })
    expect(text.statusCode).toBe(415)
    validator.assertResponse('POST', '/generate/txt2img', 415, text.json())
    const badFlag = await txt2img({ modelId: 'tiny', prompt: 'x' }, '?dryRun=maybe')
    expect(badFlag.status).toBe(400)
  })

  it('answers 429 in TooManyRequests shape with Retry-After when the queue is full', async () => {
    const deps = await start()
    deps.jobs.limit = 0
    const response = await app!.inject({
      method: 'POST',
      url: `${BASE}/generate/txt2img`,
      payload: { modelId: 'tiny', prompt: 'x' },
    })
    expect(response.statusCode).toBe(429)
    expect(response.headers['retry-after']).toBe('7')
    validator.assertResponse('POST', '/generate/txt2img', 429, response.json())
  })
})

describe('hideResults', () => {
  it('keeps the images out of asset lists (and the job out of hideResults=false job lists)', async () => {
    const deps = await start()
    const shown = await generated(deps)
    const hidden = await generated(deps, { hideResults: true })
    const assets = (await call({ url: '/assets' })).body.assets
    expect(assets.map((asset: { metadata: { inferenceId: string } }) => asset.metadata.inferenceId)).toEqual([
      shown,
    ])
    const hiddenJob = (await call({ url: `/jobs/${hidden}` })).body.job
    expect(hiddenJob.metadata.input.hideResults).toBe(true)
    const direct = (await call({ url: `/assets/${hiddenJob.metadata.assetIds[0]}` })).body.asset
    expect(direct.isHidden).toBe(true)
    const ids = async (query: string) =>
      (await call({ url: `/jobs${query}` })).body.jobs.map((job: { jobId: string }) => job.jobId)
    expect(await ids('')).toEqual([hidden, shown])
    expect(await ids('?hideResults=false')).toEqual([shown])
  })
})

describe('GET /jobs', () => {
  it('pages with pageSize and paginationToken, newest first, without repeats', async () => {
    const deps = await start()
    const made: string[] = []
    for (let i = 0; i < 5; i++)
      made.push((await txt2img({ modelId: 'tiny', prompt: `p${i}` })).body.job.jobId)
    const seen: string[] = []
    let token: string | undefined
    do {
      const query = `?pageSize=2${token === undefined ? '' : `&paginationToken=${encodeURIComponent(token)}`}`
      const { body } = await call({ url: `/jobs${query}` })
      expect(body.jobs.length).toBeLessThanOrEqual(2)
      seen.push(...body.jobs.map((job: { jobId: string }) => job.jobId))
      token = body.nextPaginationToken
    } while (token !== undefined)
    expect(seen).toEqual([...made].reverse())
    expect(deps.jobs.jobs.size).toBe(5)
  })

  it('filters by status and type', async () => {
    const deps = await start()
    const done = await generated(deps)
    const queued = (await txt2img({ modelId: 'tiny', prompt: 'later' })).body.job.jobId
    const list = async (query: string) =>
      (await call({ url: `/jobs${query}` })).body.jobs.map((job: { jobId: string }) => job.jobId)
    expect(await list('?status=success')).toEqual([done])
    expect(await list('?status=queued')).toEqual([queued])
    expect(await list('?type=inference')).toEqual([queued, done])
    expect(await list('?type=upscale')).toEqual([])
  })

  it('refuses page sizes out of 1–200 and unknown statuses', async () => {
    await start()
    for (const query of ['?pageSize=0', '?pageSize=201', '?pageSize=ten', '?status=done']) {
      expect((await call({ url: `/jobs${query}` })).status, query).toBe(400)
    }
  })

  it('GET /jobs/{jobId} of an unknown job → 404', async () => {
    await start()
    const { status, body } = await call({ url: '/jobs/job_nope' })
    expect(status).toBe(404)
    expect(body).toMatchObject({ apiError: 'JOB_NOT_FOUND', infos: { field: 'jobId' } })
  })

  it('shows a running job’s progress', async () => {
    const deps = await start()
    const jobId = (await txt2img({ modelId: 'tiny', prompt: 'x', numSamples: 2 })).body.job.jobId
    deps.worker.start(jobId)
    expect((await call({ url: `/jobs/${jobId}` })).body.job.status).toBe('warming-up')
    deps.worker.step(jobId, { image: 1, images: 2, step: 2, steps: 4 })
    const { body } = await call({ url: `/jobs/${jobId}` })
    expect(body.job).toMatchObject({ status: 'in-progress', progress: 0.75 })
  })
})

describe('POST /jobs/{jobId}/action', () => {
  it('cancels a queued job, then refuses to cancel it again', async () => {
    await start()
    const jobId = (await txt2img({ modelId: 'tiny', prompt: 'x' })).body.job.jobId
    const { status, body } = await call({
      method: 'POST',
      url: `/jobs/${jobId}/action`,
      payload: { action: 'cancel' },
    })
    expect(status).toBe(200)
    expect(body.job).toMatchObject({ jobId, status: 'canceled' })
    const again = await call({ method: 'POST', url: `/jobs/${jobId}/action`, payload: { action: 'cancel' } })
    expect(again.status).toBe(409)
    expect(again.body.infos.jobId).toBe(jobId)
  })

  it('asks a running job to stop and refuses unknown actions', async () => {
    const deps = await start()
    const jobId = (await txt2img({ modelId: 'tiny', prompt: 'x' })).body.job.jobId
    deps.worker.start(jobId)
    const { status } = await call({
      method: 'POST',
      url: `/jobs/${jobId}/action`,
      payload: { action: 'cancel' },
    })
    expect(status).toBe(200)
    expect(deps.jobs.jobs.get(jobId)!.cancelRequested).toBe(true)
    const pause = await call({ method: 'POST', url: `/jobs/${jobId}/action`, payload: { action: 'pause' } })
    expect(pause.status).toBe(400)
    expect(pause.body.infos.field).toBe('action')
  })
})

describe('GET /assets', () => {
  async function sixImages(deps: FakeDeps) {
    const jobs = [await generated(deps, { numSamples: 2 }), await generated(deps, { numSamples: 3 })]
    jobs.push(await generated(deps, { numSamples: 1 }))
    return jobs
  }

  it('walks every image with pageSize and paginationToken, newest job first', async () => {
    const deps = await start()
    const [first, second, third] = await sixImages(deps)
    const seen: string[] = []
    let token: string | undefined
    do {
      const query = `?pageSize=4${token === undefined ? '' : `&paginationToken=${token}`}`
      const { body } = await call({ url: `/assets${query}` })
      seen.push(
        ...body.assets.map(
          (a: { metadata: { inferenceId: string; outputIndex: number } }) =>
            `${a.metadata.inferenceId}:${a.metadata.outputIndex}`,
        ),
      )
      token = body.nextPaginationToken
    } while (token !== undefined)
    expect(seen).toEqual([
      `${third}:0`,
      `${second}:0`,
      `${second}:1`,
      `${second}:2`,
      `${first}:0`,
      `${first}:1`,
    ])
  })

  it('filters by inference, model and type', async () => {
    const deps = await start()
    const [, second] = await sixImages(deps)
    const count = async (query: string) => (await call({ url: `/assets${query}` })).body.assets.length
    expect(await count(`?inferenceId=${second}`)).toBe(3)
    const paged = await call({ url: `/assets?inferenceId=${second}&pageSize=2` })
    expect(paged.body.assets).toHaveLength(2)
    expect(
      await count(`?inferenceId=${second}&pageSize=2&paginationToken=${paged.body.nextPaginationToken}`),
    ).toBe(1)
    expect(await count('?modelId=alias')).toBe(6)
    expect(await count('?modelId=nope')).toBe(0)
    expect(await count('?type=inference-txt2img')).toBe(6)
    expect(await count('?type=upscale')).toBe(0)
    expect(await count('?privacy=public')).toBe(0)
    expect(await count(`?createdAfter=${new Date(Date.now() + 60_000).toISOString()}`)).toBe(0)
  })

  it.each([
    '?type=photo',
    '?pageSize=101',
    '?paginationToken=bogus',
    '?sortDirection=asc',
    '?createdAfter=soon',
  ])('%s → 400', async (query) => {
    await start()
    expect((await call({ url: `/assets${query}` })).status).toBe(400)
  })

  it('GET /assets/{assetId} of an unknown asset → 404', async () => {
    await start()
    const { status, body } = await call({ url: '/assets/asset_nope' })
    expect(status).toBe(404)
    expect(body.apiError).toBe('ASSET_NOT_FOUND')
  })
})

describe('DELETE /assets', () => {
  it('deletes the images, and nothing when one id is unknown', async () => {
    const deps = await start()
    const jobId = await generated(deps, { numSamples: 2 })
    const [a, b] = deps.jobs.jobs.get(jobId)!.assetIds
    const refused = await call({ method: 'DELETE', url: '/assets', payload: { assetIds: [a, 'asset_nope'] } })
    expect(refused.status).toBe(404)
    expect((await call({ url: `/assets/${a}` })).status).toBe(200)
    const { status, body } = await call({ method: 'DELETE', url: '/assets', payload: { assetIds: [a, b] } })
    expect(status).toBe(200)
    expect(body).toEqual({})
    expect((await call({ url: `/assets/${a}` })).status).toBe(404)
    expect(deps.storage.blobs.size).toBe(0)
  })

  it.each([
    {},
    { assetIds: [] },
    { assetIds: 'a' },
    { assetIds: Array.from({ length: 101 }, (_, i) => `a${i}`) },
  ])('refuses %j with a 400', async (payload) => {
    await start()
    expect((await call({ method: 'DELETE', url: '/assets', payload })).status).toBe(400)
  })
})

describe('GET /models', () => {
  it('lists the server’s models and finds one by name or alias', async () => {
    await start()
    const { body } = await call({ url: '/models' })
    expect(body.models).toHaveLength(1)
    expect(body.models[0]).toMatchObject({
      id: 'tiny',
      name: 'tiny',
      capabilities: ['txt2img'],
      status: 'trained',
    })
    expect((await call({ url: '/models/alias' })).body.model.id).toBe('tiny')
    expect((await call({ url: '/models?type=sd-1_5' })).body.models).toHaveLength(1)
    expect((await call({ url: '/models?type=flux.1' })).body.models).toHaveLength(0)
    expect((await call({ url: '/models?loadedOnly=true' })).body.models).toHaveLength(0)
    expect((await call({ url: '/models?pageSize=1' })).body.nextPaginationToken).toBeUndefined()
  })

  it('answers 404 for an unknown model and 400 for an unknown type', async () => {
    await start()
    expect((await call({ url: '/models/nope' })).status).toBe(404)
    expect((await call({ url: '/models?type=dalle' })).status).toBe(400)
  })
})

describe('GET /usages', () => {
  let handle: DatabaseHandle | undefined
  afterEach(async () => {
    await handle?.close()
    handle = undefined
  })

  /**
   * The fake queue behind the real credit accounting, as the server composes it. The fake worker moves jobs
   * without the queue's transitions, so `finish` settles the charge as a real completion would.
   */
  async function withUsage(base: FakeDeps = fakeDeps()) {
    handle = await openTestDatabase('sqlite')
    const accounts = openAccounts(handle, base.config)
    await start({ ...base, jobs: accounts.charge(base.jobs), accounts })
    const settler = new JobSettler(accounts.ledger, { factors: accounts.factors })
    return async (body: Record<string, unknown> = {}, headers?: Record<string, string>) => {
      const { status, body: answer } = await call({
        method: 'POST',
        url: '/generate/txt2img',
        payload: { modelId: 'tiny', prompt: 'a red cube', numSamples: 1, ...body },
        ...(headers === undefined ? {} : { headers }),
      })
      expect(status).toBe(200)
      const jobId: string = answer.job.jobId
      base.worker.start(jobId)
      await settler.settleJob(await base.worker.succeed(jobId))
      return answer.creativeUnitsCost as number
    }
  }

  it('reports the charged creative units, jobs and images per model and day', async () => {
    const generate = await withUsage()
    const costs = [await generate({ numSamples: 2 }), await generate({ numInferenceSteps: 8 })]
    const { status, body } = await call({ url: '/usages?timeRange=7d' })
    expect(status).toBe(200)
    const today = `${new Date().toISOString().slice(0, 10)}T00:00:00.000Z`
    expect(body.modelUsages).toEqual([
      {
        modelId: 'tiny',
        points: [{ time: today, cost: expect.closeTo(costs[0] + costs[1], 9), discount: 0, jobs: 2 }],
      },
    ])
    expect(body.usages).toEqual([
      { granularity: '1d', usageName: 'images-generation', points: [{ time: today, value: '3' }] },
    ])
    const before = await call({ url: '/usages?startDate=2026-01-01&endDate=2026-01-02' })
    expect(before.body).toMatchObject({ modelUsages: [], usages: [{ points: [] }] })
    expect((await call({ url: '/usages?startDate=2026-01-01' })).status).toBe(400)
  })

  it('shows a user key its own usage only; an admin any authors it names', async () => {
    const generate = await withUsage(
      fakeDeps({
        caller: (headers) => {
          const key = headers['x-test-key']
          return typeof key === 'string'
            ? { keyId: key, role: 'user', remainingCredits: null }
            : { keyId: null, role: 'admin', remainingCredits: null }
        },
      }),
    )
    await generate({}, { 'x-test-key': 'key_a' })
    await generate({ numSamples: 2 }, { 'x-test-key': 'key_b' })
    await generate({ numSamples: 3 })
    const images = async (query: string, headers?: Record<string, string>) => {
      const { body } = await call({ url: `/usages${query}`, ...(headers === undefined ? {} : { headers }) })
      return body.usages[0].points.map((point: { value: string }) => point.value)
    }
    expect(await images('', { 'x-test-key': 'key_a' })).toEqual(['1'])
    expect(await images('?userId=key_b', { 'x-test-key': 'key_a' })).toEqual([])
    expect(await images('')).toEqual(['6'])
    expect(await images('?userIds=key_a,anonymous')).toEqual(['4'])
    expect(await images('?userId=key_b&userIds=key_b')).toEqual(['2'])
  })

  it('answers 501 on a server that keeps no usage records', async () => {
    await start()
    expect((await call({ url: '/usages' })).status).toBe(501)
  })
})

describe('auth', () => {
  it('accepts Scenario’s Basic key:secret and answers 401 in Scenario’s shape otherwise', async () => {
    const deps = fakeDeps()
    await start({ ...deps, authenticate: createAuthenticator({ apiKeys: ['s3cret'], host: '0.0.0.0' }) })
    const basic = (pair: string) => ({ authorization: `Basic ${Buffer.from(pair).toString('base64')}` })
    expect((await call({ url: '/models', headers: basic('api_key_id:s3cret') })).status).toBe(200)
    const missing = await call({ url: '/models' })
    expect(missing.status).toBe(401)
    expect(missing.body.apiError).toBe('AUTH_UNAUTHORIZED')
    expect((await call({ url: '/models', headers: basic('api_key_id:wrong') })).status).toBe(401)
  })

  it('unknown routes under the prefix answer 404 in Scenario’s shape', async () => {
    await start()
    const { status, body } = await call({ url: '/generate/upscale' })
    expect(status).toBe(404)
    expect(body.apiError).toBe('NOT_FOUND')
  })
})
