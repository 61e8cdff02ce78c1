import { describe, expect, it } from 'vitest'
import { errors } from '../../core/errors.js'
import { type Run, toProgress } from './activity.js'
import { matchCheckpoint, samplerAndScheduler, toA1111Error, toSubmission } from './translate.js'

const limits = { maxImages: 8, randomSeed: () => 777 }

describe('sampler and scheduler names', () => {
  it.each([
    ['Euler a', undefined, { sampler: 'euler_ancestral' }],
    ['DPM++ 2M', 'karras', { sampler: 'dpmpp_2m', scheduler: 'karras' }],
    ['DPM++ 2M', 'Karras', { sampler: 'dpmpp_2m', scheduler: 'karras' }],
    ['DPM++ 2M Karras', undefined, { sampler: 'dpmpp_2m', scheduler: 'karras' }],
    ['DPM++ 2M Karras', 'Automatic', { sampler: 'dpmpp_2m', scheduler: 'karras' }],
    ['DPM++ 2M Karras', 'exponential', { sampler: 'dpmpp_2m', scheduler: 'exponential' }],
    ['Euler', 'uniform', { sampler: 'euler', scheduler: 'normal' }],
    ['Euler', 'ddim', { sampler: 'euler', scheduler: 'ddim_uniform' }],
    ['UniPC', 'sgm_uniform', { sampler: 'uni_pc', scheduler: 'sgm_uniform' }],
    [undefined, 'automatic', {}],
  ] as const)('%s + %s', (sampler, scheduler, expected) => {
    expect(samplerAndScheduler(sampler, scheduler)).toEqual(expected)
  })

  it('unknown names are A1111’s 404s', () => {
    expect(() => samplerAndScheduler('Nope', undefined)).toThrow('Sampler not found')
    expect(() => samplerAndScheduler('Euler', 'Nope')).toThrow('Scheduler not found')
  })
})

describe('toSubmission', () => {
  it('seed −1 or none draws one; batch_size is the job size', () => {
    expect(toSubmission({ prompt: 'x', seed: -1 }, limits).input.seed).toBe(777)
    expect(toSubmission({ prompt: 'x' }, limits).input.seed).toBe(777)
    const { input, iterations } = toSubmission({ prompt: 'x', seed: 5, batch_size: 2, n_iter: 3 }, limits)
    expect(input).toMatchObject({ seed: 5, n: 2 })
    expect(iterations).toBe(3)
  })

  it('n_iter × batch_size is held to the server’s image limit', () => {
    expect(() => toSubmission({ prompt: 'x', batch_size: 3, n_iter: 3 }, limits)).toThrow(/at most 8/)
  })

  it('the checkpoint override is read from override_settings; ignored features are listed', () => {
    const submission = toSubmission(
      {
        prompt: 'x',
        override_settings: { sd_model_checkpoint: 'm [abc]', CLIP_stop_at_last_layers: 2 },
        enable_hr: true,
        restore_faces: false,
        alwayson_scripts: {},
      },
      limits,
    )
    expect(submission.checkpoint).toBe('m [abc]')
    expect(submission.ignored).toEqual(['enable_hr'])
  })
})

describe('matchCheckpoint', () => {
  const models = [
    { name: 'sd15', aliases: ['v1-5'] },
    { name: 'flux', aliases: [] },
  ]
  it.each([
    ['sd15', 'sd15'],
    ['v1-5', 'sd15'],
    ['v1-5.safetensors [6ce0161689]', 'sd15'],
    ['flux.safetensors', 'flux'],
    ['other', undefined],
  ])('%s → %s', (given, expected) => {
    expect(matchCheckpoint(given, models)).toBe(expected)
  })
})

describe('toA1111Error', () => {
  it('a bad value is FastAPI’s 422 at the body field A1111 names', () => {
    const error = errors.REQUEST_INVALID_PARAM('cfg: must be between 0 and 30, got 31', { field: 'cfg' })
    expect(toA1111Error(error)).toEqual({
      status: 422,
      body: {
        detail: [
          { loc: ['body', 'cfg_scale'], msg: 'must be between 0 and 30, got 31', type: 'value_error' },
        ],
      },
    })
  })

  it('others are handle_exception bodies; 401 asks for Basic', () => {
    expect(toA1111Error(errors.AUTH_UNAUTHORIZED('Invalid API key.'))).toEqual({
      status: 401,
      body: { error: 'HTTPException', detail: 'Invalid API key.', body: '', errors: '401: Invalid API key.' },
      headers: { 'www-authenticate': 'Basic' },
    })
    expect(toA1111Error(errors.INTERNAL('boom')).body).toMatchObject({ error: 'RuntimeError' })
  })
})

describe('toProgress', () => {
  const run = (over: Partial<Run> = {}): Run => ({
    owner: '',
    iterations: 2,
    startedAt: 0,
    timestamp: '20261204180000',
    iteration: 1,
    jobId: 'j',
    preview: 'cHJldmlldw==',
    skipped: false,
    interrupted: false,
    ...over,
  })

  it('idle: progress 0, job_count 0', () => {
    const idle = toProgress([], null, { now: 5000, withImage: true })
    expect(idle).toMatchObject({ progress: 0, eta_relative: 0, current_image: null, state: { job_count: 0 } })
  })

  it('A1111’s formula: 0.01 + job_no/job_count + step fraction/job_count, ETA from the elapsed time', () => {
    const job = {
      progress: { image: 0, images: 2, step: 5, steps: 10 },
      request: { steps: 10 },
    } as unknown as Parameters<typeof toProgress>[1]
    const answer = toProgress([run()], job, { now: 10_000, withImage: true })
    const progress = 0.01 + 1 / 2 + 0.25 / 2
    expect(answer.progress).toBeCloseTo(progress, 12)
    expect(answer.eta_relative).toBeCloseTo(10 / progress - 10, 9)
    expect(answer.state).toMatchObject({ job_count: 2, job_no: 1, sampling_step: 5, sampling_steps: 10 })
    expect(answer.current_image).toBe('cHJldmlldw==')
    expect(toProgress([run()], job, { now: 10_000, withImage: false }).current_image).toBeNull()
  })
})
