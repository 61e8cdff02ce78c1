import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { type ErrorCode, errors } from '../../core/errors.js'
import { at, fakeJob } from '../testing/records.js'
import { ASPECT_RATIOS, type ChromaBody, SAMPLER_NAMES } from './schema.js'
import {
  dimensionsOf,
  httpStatusOf,
  toResultBody,
  toSegmindHttpStatus,
  toStatusBody,
  toSubmission,
  toSubmitBody,
} from './translate.js'

const example: ChromaBody = JSON.parse(
  readFileSync(new URL('../../../test/fixtures/dialects/segmind/chroma.json', import.meta.url), 'utf8'),
)

describe('toSubmission', () => {
  it('the documented example → canonical input', () => {
    expect(toSubmission(example)).toEqual({
      input: {
        prompt: example.prompt,
        negativePrompt: 'low quality, ugly, deformed, blurry, bad anatomy, distorted, unrealistic',
        width: 1024,
        height: 1024,
        steps: 40,
        cfg: 7,
        sampler: 'euler',
        scheduler: 'beta',
        seed: 123456789,
        n: 1,
        output: { format: 'png', quality: 95 },
      },
      base64: false,
    })
  })

  it('a prompt alone gets every documented default', () => {
    expect(toSubmission({ prompt: 'p' })).toEqual(
      toSubmission({ ...example, prompt: 'p' }), // the example spells out exactly the defaults
    )
  })

  it.each([
    ['euler', 'euler'],
    ['euler_a', 'euler_ancestral'],
    ['heun', 'heun'],
    ['dpm_2', 'dpm_2'],
    ['dpm_2_a', 'dpm_2_ancestral'],
    ['lms', 'lms'],
    ['dpm_fast', 'dpm_fast'],
    ['dpm_adaptive', 'dpm_adaptive'],
    ['dpmpp_2s_a', 'dpmpp_2s_ancestral'],
    ['dpmpp_sde', 'dpmpp_sde'],
    ['dpmpp_2m', 'dpmpp_2m'],
    ['dpmpp_2m_sde', 'dpmpp_2m_sde'],
  ] as const)('sampler_name %s → %s', (name, canonical) => {
    expect(toSubmission({ prompt: 'p', sampler_name: name }).input.sampler).toBe(canonical)
  })

  it('covers all twelve documented samplers', () => {
    expect(SAMPLER_NAMES).toHaveLength(12)
  })

  it.each([
    'normal',
    'karras',
    'exponential',
    'beta',
    'sgm_uniform',
    'simple',
  ] as const)('scheduler %s passes through', (scheduler) => {
    expect(toSubmission({ prompt: 'p', scheduler }).input.scheduler).toBe(scheduler)
  })

  it('maps each parameter to its canonical field', () => {
    const { input, base64 } = toSubmission({
      prompt: 'p',
      negative_prompt: 'n',
      cfg: 12.5,
      steps: 75,
      seed: 1,
      samples: 3,
      image_format: 'webp',
      image_quality: 40,
      base64: true,
    })
    expect(input).toMatchObject({ negativePrompt: 'n', cfg: 12.5, steps: 75, seed: 1, n: 3 })
    expect(input.output).toEqual({ format: 'webp', quality: 40 })
    expect(base64).toBe(true)
  })
})

describe('dimensionsOf', () => {
  it.each([
    ['1:1 square 1024x1024', 1024, 1024],
    ['3:4 portrait 896x1152', 896, 1152],
    ['5:8 portrait 832x1216', 832, 1216],
    ['9:16 portrait 768x1344', 768, 1344],
    ['9:21 portrait 640x1536', 640, 1536],
    ['4:3 landscape 1152x896', 1152, 896],
    ['3:2 landscape 1216x832', 1216, 832],
    ['16:9 landscape 1344x768', 1344, 768],
    ['21:9 landscape 1536x640', 1536, 640],
  ] as const)('preset %s → %ix%i, whatever width/height say', (aspect_ratio, width, height) => {
    expect(dimensionsOf({ prompt: 'p', aspect_ratio, width: 2048, height: 2048 })).toEqual({ width, height })
  })

  it('every preset but custom names its size', () => {
    for (const preset of ASPECT_RATIOS.filter((p) => p !== 'custom')) {
      expect(() => dimensionsOf({ prompt: 'p', aspect_ratio: preset })).not.toThrow()
    }
  })

  it('custom takes width and height, each defaulting to 1024', () => {
    expect(dimensionsOf({ prompt: 'p', aspect_ratio: 'custom', width: 768, height: 2048 })).toEqual({
      width: 768,
      height: 2048,
    })
    expect(dimensionsOf({ prompt: 'p', aspect_ratio: 'custom', width: 800 })).toEqual({
      width: 800,
      height: 1024,
    })
  })

  it('without aspect_ratio the default preset (1:1) decides', () => {
    expect(dimensionsOf({ prompt: 'p', width: 768, height: 768 })).toEqual({ width: 1024, height: 1024 })
  })
})

describe('v2 bodies', () => {
  it('submit body points at the status and result URLs', () => {
    expect(toSubmitBody(fakeJob({ id: 'abc' }), 'http://127.0.0.1:7860')).toEqual({
      request_id: 'abc',
      status: 'QUEUED',
      status_url: 'http://127.0.0.1:7860/v2/requests/abc/status',
      response_url: 'http://127.0.0.1:7860/v2/requests/abc',
    })
  })

  it.each([
    ['queued', 'QUEUED', 202],
    ['running', 'PROCESSING', 202],
    ['succeeded', 'COMPLETED', 200],
    ['failed', 'FAILED', 422],
    ['canceled', 'FAILED', 422],
  ] as const)('%s → %s (HTTP %i)', (state, status, http) => {
    const body = toStatusBody(fakeJob({ state }))
    expect(body.status).toBe(status)
    expect(httpStatusOf(body.status)).toBe(http)
  })

  it('a FAILED status and result carry the error detail', () => {
    const job = fakeJob({ state: 'failed', error: { code: 'MODEL_RUN_FAILED', message: 'boom' } })
    expect(toStatusBody(job)).toEqual({ request_id: job.id, status: 'FAILED', error: 'boom' })
    expect(toResultBody(job, [])).toMatchObject({ status: 'FAILED', error: 'boom', output: null })
  })

  it('a COMPLETED result has the output and the inference time in seconds', () => {
    const job = fakeJob({ startedAt: at(1000), finishedAt: at(3500) })
    expect(toResultBody(job, ['http://x/0.png'])).toEqual({
      request_id: job.id,
      status: 'COMPLETED',
      error: null,
      output: 'http://x/0.png',
      metrics: { inference_time: 2.5 },
    })
    expect(toResultBody(job, ['a', 'b']).output).toEqual(['a', 'b'])
  })
})

describe('error statuses', () => {
  it.each([
    ['VALIDATION_FAILED', 400],
    ['REQUEST_INVALID_PARAM', 400],
    ['AUTH_UNAUTHORIZED', 401],
    ['AUTH_FORBIDDEN', 403],
    ['MODEL_NOT_FOUND', 404],
    ['JOB_NOT_FOUND', 404],
    ['GONE', 404],
    ['CREDITS_INSUFFICIENT', 406],
    ['QUEUE_FULL', 429],
    ['INTERNAL', 500],
    ['MODEL_RUN_FAILED', 500],
    ['UNAVAILABLE', 502],
    ['MODEL_NOT_CONFIGURED', 502],
    ['STORAGE_FAILED', 502],
    ['REQUEST_TIMEOUT', 504],
  ] as const)('%s → %i', (code, status) => {
    expect(toSegmindHttpStatus(errors[code as ErrorCode]('x'))).toBe(status)
  })
})
