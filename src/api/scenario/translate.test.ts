import { describe, expect, it } from 'vitest'
import { errors, isPigmentError } from '../../core/errors.js'
import type { Job } from '../../core/job.js'
import { diffusersScheduler } from '../../engine/sampler-names.js'
import type { ModelProfile } from '../../jobs/canonicalize.js'
import { at, fakeAsset, fakeJob, fakeRequest } from '../testing/records.js'
import { scenarioErrorBody, tooManyRequestsBody } from './errors.js'
import { SCENARIO_SCHEDULERS, type Txt2imgBody } from './schema.js'
import { createScenarioValidator } from './testing/openapi-validator.js'
import {
  creativeUnits,
  modelTypeOf,
  progressOf,
  resolveSize,
  type ScenarioOrigin,
  scenarioStatus,
  toGenerationInput,
  toInference,
  toScenarioAsset,
  toScenarioJob,
  toScenarioModel,
} from './translate.js'

const validator = createScenarioValidator()
const MODEL: ModelProfile = {
  name: 'shapes',
  limits: { minSize: 64, maxSize: 2048, sizeMultiple: 8, maxSteps: 100 },
}
const LIMITS = { maxPixels: 2048 * 2048, maxSteps: 150, maxImages: 8 }

function translate(body: Partial<Txt2imgBody>, model: ModelProfile = MODEL, limits = LIMITS) {
  return toGenerationInput(
    { modelId: 'shapes', prompt: 'a red cube', ...body },
    { model, limits, keyId: 'key_1' },
  )
}

function scenarioJob(overrides: Partial<Job> = {}, extras?: ScenarioOrigin['scenario']): Job {
  const origin: ScenarioOrigin = { keyId: null, source: 'scenario', ...(extras ? { scenario: extras } : {}) }
  return fakeJob({ request: fakeRequest({ origin, n: 2 }), ...overrides })
}

describe('toGenerationInput', () => {
  it('maps every Scenario field to its canonical name', () => {
    const { input, origin } = translate({
      negativePrompt: 'blurry',
      numSamples: 3,
      numInferenceSteps: 12,
      guidance: 6.5,
      width: 640,
      height: 384,
      seed: '1234',
      scheduler: 'DPMSolverMultistepScheduler',
      hideResults: true,
      intermediateImages: true,
    })
    expect(input).toEqual({
      prompt: 'a red cube',
      model: 'shapes',
      negativePrompt: 'blurry',
      width: 640,
      height: 384,
      steps: 12,
      n: 3,
      cfg: 6.5,
      sampler: 'dpmpp_2m',
      scheduler: 'normal',
      seed: 1234,
      output: { format: 'png' },
    })
    expect(origin).toEqual({
      keyId: 'key_1',
      source: 'scenario',
      scenario: { hideResults: true, intermediateImages: true, scheduler: 'DPMSolverMultistepScheduler' },
    })
  })

  it("fills Scenario's documented defaults (4 images, 30 steps, 512×512) within the server's limits", () => {
    const { input } = translate({})
    expect(input).toMatchObject({ n: 4, steps: 30, width: 512, height: 512 })
    expect(input.cfg).toBeUndefined() // guidance defaults per model: the manifest decides
    const small = translate({}, { name: 'x', limits: { maxSteps: 8 } }, { ...LIMITS, maxImages: 2 })
    expect(small.input).toMatchObject({ n: 2, steps: 8 })
  })

  it('accepts the seed as a string (as documented) or a number, and refuses unsafe integers', () => {
    expect(translate({ seed: '42' }).input.seed).toBe(42)
    expect(translate({ seed: 42 }).input.seed).toBe(42)
    expect(() => translate({ seed: '9999999999999999' })).toThrow(/seed/)
  })

  it('maps each diffusers scheduler of the document to a sampler and schedule', () => {
    for (const name of SCENARIO_SCHEDULERS) {
      const { input } = translate({ scheduler: name })
      const mapping = diffusersScheduler(name)
      expect(input).toMatchObject({ sampler: mapping.sampler, scheduler: mapping.scheduler })
    }
    expect(translate({ scheduler: 'EulerAncestralDiscreteScheduler' }).input.sampler).toBe('euler_ancestral')
    expect(translate({ scheduler: 'EulerDiscreteScheduler' }).input.sampler).toBe('euler')
  })

  it('refuses LoRA concepts, model epochs and base models, naming the field', () => {
    const cases: [Partial<Txt2imgBody>, string][] = [
      [{ concepts: [{ modelId: 'm', scale: 1 }] }, 'concepts'],
      [{ modelEpoch: '000001' }, 'modelEpoch'],
      [{ baseModelId: 'flux.1-dev' }, 'baseModelId'],
    ]
    for (const [body, field] of cases) {
      try {
        translate(body)
        expect.unreachable(`${field} was accepted`)
      } catch (error) {
        expect(isPigmentError(error, 'DIALECT_UNSUPPORTED_PARAM')).toBe(true)
        expect((error as { field?: string }).field).toBe(field)
      }
    }
    expect(() => translate({ concepts: [], modelEpoch: '', baseModelId: '' })).not.toThrow()
  })
})

describe('resolveSize', () => {
  it('uses width and height as given, ahead of an aspect ratio', () => {
    expect(resolveSize({ width: 768, height: 512, aspectRatio: '1:1' }, MODEL)).toEqual({
      width: 768,
      height: 512,
    })
  })

  it('derives the missing side from the aspect ratio', () => {
    expect(resolveSize({ width: 512, aspectRatio: '2:3' }, MODEL)).toEqual({ width: 512, height: 768 })
    expect(resolveSize({ height: 576, aspectRatio: '16:9' }, MODEL)).toEqual({ width: 1024, height: 576 })
  })

  it('keeps the default pixel count for an aspect ratio alone, on the size grid', () => {
    expect(resolveSize({ aspectRatio: '1:1' }, MODEL)).toEqual({ width: 512, height: 512 })
    expect(resolveSize({ aspectRatio: '16:9' }, MODEL)).toEqual({ width: 680, height: 384 })
    expect(resolveSize({ aspectRatio: '9:21' }, MODEL)).toEqual({ width: 336, height: 784 })
  })

  it("scales a derived size into the model's limits without changing its shape", () => {
    const small = { name: 'tiny', limits: { maxSize: 512, sizeMultiple: 16 } }
    expect(resolveSize({ aspectRatio: '16:9' }, small)).toEqual({ width: 512, height: 288 })
  })
})

describe('Scenario job statuses', () => {
  it('maps each Pigment state, and a running job by its progress', () => {
    const progress = (step: number, image = 0) => ({ image, images: 2, step, steps: 10 })
    expect(scenarioStatus(fakeJob({ state: 'queued' }))).toBe('queued')
    expect(scenarioStatus(fakeJob({ state: 'running', progress: null }))).toBe('warming-up')
    expect(scenarioStatus(fakeJob({ state: 'running', progress: progress(10, 0) }))).toBe('in-progress')
    expect(scenarioStatus(fakeJob({ state: 'running', progress: progress(10, 1) }))).toBe('finalizing')
    expect(scenarioStatus(fakeJob({ state: 'succeeded' }))).toBe('success')
    expect(scenarioStatus(fakeJob({ state: 'failed', error: { code: 'X', message: 'y' } }))).toBe('failure')
    expect(scenarioStatus(fakeJob({ state: 'canceled', assetIds: [] }))).toBe('canceled')
    expect(scenarioStatus(fakeJob({ state: 'expired' }))).toBe('success')
    expect(scenarioStatus(fakeJob({ state: 'expired', assetIds: [] }))).toBe('canceled')
    expect(scenarioStatus(fakeJob({ state: 'expired', error: { code: 'X', message: 'y' } }))).toBe('failure')
  })

  it('reports progress as a fraction of all images and steps', () => {
    expect(progressOf(fakeJob({ state: 'queued', progress: null }))).toBe(0)
    expect(
      progressOf(fakeJob({ state: 'running', progress: { image: 1, images: 2, step: 5, steps: 10 } })),
    ).toBe(0.75)
    expect(progressOf(fakeJob({ state: 'succeeded' }))).toBe(1)
  })
})

describe('Pigment records as Scenario objects (validated against the seed document)', () => {
  const states: Partial<Job>[] = [
    { state: 'queued', startedAt: null, finishedAt: null, assetIds: [], progress: null },
    {
      state: 'running',
      finishedAt: null,
      assetIds: [],
      progress: { image: 0, images: 2, step: 3, steps: 6 },
    },
    { state: 'succeeded', assetIds: ['a', 'b'] },
    { state: 'failed', assetIds: [], error: { code: 'MODEL_RUN_FAILED', message: 'boom' } },
    { state: 'canceled', assetIds: [], startedAt: null },
  ]

  it.each(states)('a $state job is a valid Scenario job', (overrides) => {
    const job = scenarioJob(overrides, { hideResults: true, intermediateImages: false, aspectRatio: '4:3' })
    const body = { job: toScenarioJob(job) }
    validator.assertResponse('GET', '/jobs/{jobId}', 200, body)
    expect(body.job.metadata.input).toMatchObject({
      modelId: 'pigment-shapes',
      hideResults: true,
      aspectRatio: '4:3',
    })
  })

  it('keeps a history of statuses and refunds failed jobs', () => {
    const done = toScenarioJob(scenarioJob({ state: 'succeeded' }))
    expect(done.statusHistory.map((entry) => entry.status)).toEqual(['queued', 'in-progress', 'success'])
    expect(done.billing.cuCost).toBeGreaterThan(0)
    const failed = toScenarioJob(scenarioJob({ state: 'failed', error: { code: 'X', message: 'boom' } }))
    expect(failed.billing.cuCost).toBe(0)
    expect(failed.metadata.output).toEqual({ error: 'boom', code: 'X' })
  })

  it('echoes the inference with the scheduler as asked, or as it maps back', () => {
    const asked = scenarioJob({}, { hideResults: false, intermediateImages: true, scheduler: 'TCDScheduler' })
    const inference = toInference(asked)
    expect(inference).toMatchObject({
      type: 'txt2img',
      seed: '2025',
      numSamples: 2,
      scheduler: 'TCDScheduler',
    })
    validator.assertResponse('POST', '/generate/txt2img', 200, { inference, job: toScenarioJob(asked) })
    const native = fakeJob({ request: fakeRequest({ sampler: 'dpmpp_2m', scheduler: 'normal' }) })
    expect(toInference(native).scheduler).toBe('DPMSolverMultistepScheduler')
    expect(toInference(fakeJob()).scheduler).toBeUndefined() // euler + simple is no diffusers class
  })

  it('is a valid Scenario asset, with values outside Scenario’s metadata bounds kept to properties', () => {
    const job = scenarioJob({ request: fakeRequest({ steps: 30, width: 512, height: 1024 }) })
    const asset = fakeAsset({ width: 512, height: 1024, index: 1, seed: 2026 })
    const body = toScenarioAsset(asset, job, 'http://files/x.png')
    validator.assertResponse('GET', '/assets/{assetId}', 200, { asset: body })
    expect(body.properties).toEqual({ size: 1234, width: 512, height: 1024 })
    expect(body.metadata).toMatchObject({ seed: '2026', outputIndex: 1, numInferenceSteps: 30, height: 1024 })
    expect(body.metadata.width).toBeUndefined()
    const orphan = toScenarioAsset(fakeAsset({ format: 'webp' }), null, 'u')
    validator.assertResponse('GET', '/assets/{assetId}', 200, { asset: orphan })
    expect(orphan.mimeType).toBe('image/webp')
  })

  it('is a valid Scenario model, typed by family and default size', () => {
    const summary = {
      name: 'shapes',
      family: 'sd',
      aliases: ['chroma'],
      loaded: true,
      isDefault: true,
      defaults: { width: 512 },
      limits: {},
    }
    const model = toScenarioModel(summary, at(0))
    validator.assertResponse('GET', '/models/{modelId}', 200, { model })
    expect(model).toMatchObject({ id: 'shapes', type: 'sd-1_5', capabilities: ['txt2img'] })
    expect(modelTypeOf({ family: 'sd', defaults: { width: 1024 } })).toBe('sd-xl')
    expect(modelTypeOf({ family: 'flow', defaults: {} })).toBe('flux.1')
  })
})

describe('creative units', () => {
  it('grow with pixels, steps and images', () => {
    const image = { model: 'shapes', width: 1024, height: 1024, steps: 30, n: 1 }
    expect(creativeUnits(image)).toBe(3)
    expect(creativeUnits({ ...image, n: 4 })).toBe(12)
    expect(creativeUnits({ ...image, width: 512, height: 512 })).toBe(0.75)
    expect(creativeUnits(image, { shapes: 2 })).toBe(6)
  })
})

describe("Scenario's error envelope", () => {
  it.each([
    [400, errors.VALIDATION_FAILED('width: must be >= 64', { field: 'width' })],
    [401, errors.AUTH_UNAUTHORIZED('Missing API key.')],
    [403, errors.AUTH_FORBIDDEN('admins only')],
    [404, errors.JOB_NOT_FOUND('no job x', { details: { jobId: 'x' } })],
    [500, errors.INTERNAL('internal error')],
    [503, errors.UNAVAILABLE('shutting down')],
  ])('%i renders the documented body', (status, error) => {
    const body = scenarioErrorBody(error, 'req-1', at(0))
    validator.assertResponse('GET', '/jobs', status, body)
    expect(body).toMatchObject({ apiError: error.code, error: error.message, id: 'req-1' })
  })

  it('names the field and the job in infos', () => {
    const body = scenarioErrorBody(
      errors.CONFLICT('done', { field: 'jobId', details: { jobId: 'j' } }),
      'r',
      at(0),
    )
    expect(body.infos).toEqual({ field: 'jobId', jobId: 'j' })
  })

  it('429 has its own body', () => {
    const body = tooManyRequestsBody(errors.QUEUE_FULL('the queue is full', { retryAfterSeconds: 3 }))
    validator.assertResponse('GET', '/jobs', 429, body)
    expect(body).toEqual({
      reason: 'the queue is full',
      name: 'QUEUE_FULL',
      details: { retryAfterSeconds: 3 },
    })
  })
})
