import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { isPigmentError } from '../../core/errors.js'
import { at, fakeAssets, fakeJob, fakeRequest } from '../testing/records.js'
import type { WorkerInput } from './schema.js'
import {
  toHealth,
  toJobStatus,
  toRunPodStatus,
  toWorkerAction,
  toWorkerResult,
  unwrapDirectBody,
  WORKER_DEFAULTS,
} from './translate.js'

const fixture = (name: string) =>
  JSON.parse(readFileSync(new URL(`../../../test/fixtures/dialects/runpod/${name}`, import.meta.url), 'utf8'))

function generate(input: WorkerInput) {
  const action = toWorkerAction(input)
  if (action.kind !== 'generate') throw new Error(`expected generate, got ${action.kind}`)
  return action
}

function invalidField(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (error) {
    if (isPigmentError(error, 'REQUEST_INVALID_PARAM')) return error.field
    throw error
  }
  return undefined
}

describe('toWorkerAction: the seed examples', () => {
  it('queue-mode example → the canonical input, aliases resolved', () => {
    const action = generate(fixture('queue-request.json').input)
    expect(action.input).toEqual({
      prompt: 'Ultradetailed photo of a classic sports car at dusk, glossy reflections',
      negativePrompt: 'blurry, low quality',
      width: 1024,
      height: 1024,
      steps: 8,
      cfg: 1,
      n: 1,
      seed: 2025,
      output: { format: 'png' },
    })
    expect(action.allowDownscaleOnOom).toBe(false)
  })

  it('load-balancer direct example → same translation without the envelope', () => {
    const action = generate(unwrapDirectBody(fixture('lb-direct.json')) as WorkerInput)
    expect(action.input).toMatchObject({ prompt: 'a neon car in the rain, cinematic', steps: 6, n: 1 })
    expect(action.input).toMatchObject({ width: 768, height: 768, output: { format: 'png' } })
  })

  it('unwrapDirectBody accepts the {input} wrapper in load-balancer mode too', () => {
    expect(unwrapDirectBody({ input: { prompt: 'x' } })).toEqual({ prompt: 'x' })
    expect(unwrapDirectBody({ prompt: 'x', input: 'not an object' })).toEqual({
      prompt: 'x',
      input: 'not an object',
    })
  })

  it('warmup, debug and comfy examples select their modes', () => {
    expect(toWorkerAction(fixture('warmup.json').input)).toEqual({ kind: 'warmup' })
    expect(toWorkerAction(fixture('debug.json').input)).toEqual({ kind: 'debug' })
    const comfy = toWorkerAction(fixture('comfy-prompt.json').input)
    expect(comfy.kind).toBe('comfy')
    expect(toWorkerAction({ cleanup: true })).toEqual({ kind: 'cleanup' })
  })
})

describe('toWorkerAction: fields, aliases and defaults', () => {
  it('defaults: 6 steps, 768x768, one image, PNG, random seed; downscale on OOM allowed', () => {
    const action = generate({ prompt: 'p' })
    expect(action.input).toEqual({
      prompt: 'p',
      width: WORKER_DEFAULTS.width,
      height: WORKER_DEFAULTS.height,
      steps: 6,
      n: 1,
      output: { format: 'png' },
    })
    expect(action.input.seed).toBeUndefined()
    expect(action.allowDownscaleOnOom).toBe(true)
  })

  it('size sets both dimensions and wins over width/height', () => {
    expect(generate({ prompt: 'p', size: '512x256' }).input).toMatchObject({ width: 512, height: 256 })
    expect(generate({ prompt: 'p', size: '512x256', width: 1024 }).input).toMatchObject({ width: 512 })
  })

  it('width and height are used when no size is given', () => {
    expect(generate({ prompt: 'p', width: 640, height: 832 }).input).toMatchObject({
      width: 640,
      height: 832,
    })
    expect(generate({ prompt: 'p', width: 640 }).input).toMatchObject({ width: 640, height: 768 })
  })

  it('cfg is an alias of guidance_scale; the field wins when both are sent', () => {
    expect(generate({ prompt: 'p', cfg: 1.5 }).input.cfg).toBe(1.5)
    expect(generate({ prompt: 'p', guidance_scale: 2 }).input.cfg).toBe(2)
    expect(generate({ prompt: 'p', guidance_scale: 2, cfg: 9 }).input.cfg).toBe(2)
    expect(generate({ prompt: 'p' }).input.cfg).toBeUndefined()
  })

  it('n is an alias of num_images', () => {
    expect(generate({ prompt: 'p', n: 3 }).input.n).toBe(3)
    expect(generate({ prompt: 'p', num_images: 2, n: 5 }).input.n).toBe(2)
  })

  it.each([
    ['PNG', 'png'],
    ['JPG', 'jpeg'],
    ['jpeg', 'jpeg'],
    ['WEBP', 'webp'],
    ['webp', 'webp'],
  ])('output_format %s → %s', (given, format) => {
    expect(generate({ prompt: 'p', output_format: given }).input.output).toEqual({ format })
  })

  it('negative_prompt and seed pass through', () => {
    const input = generate({ prompt: 'p', negative_prompt: 'blur', seed: 7 }).input
    expect(input.negativePrompt).toBe('blur')
    expect(input.seed).toBe(7)
  })
})

describe('toWorkerAction: bad input names the field', () => {
  it.each([
    ['missing prompt', {}, 'input.prompt'],
    ['blank prompt', { prompt: '  ' }, 'input.prompt'],
    ['size without x', { prompt: 'p', size: '1024' }, 'input.size'],
    ['size not multiple of 8', { prompt: 'p', size: '1000x1001' }, 'input.size'],
    ['width not multiple of 8', { prompt: 'p', width: 770 }, 'input.width'],
    ['unknown format', { prompt: 'p', output_format: 'GIF' }, 'input.output_format'],
    ['comfy without payload', { comfy: true }, 'input.payload'],
  ] as const)('%s', (_name, input, field) => {
    expect(invalidField(() => toWorkerAction(input as WorkerInput))).toBe(field)
  })
})

describe('toWorkerResult', () => {
  it('has the seed response shape, with meta from the job', () => {
    const job = fakeJob({
      request: fakeRequest({ width: 1024, height: 1024, steps: 8, cfg: 1, n: 2, seed: 2025 }),
    })
    const assets = fakeAssets(job)
    const result = toWorkerResult(job, assets, {
      urls: ['http://x/a', 'http://x/b'],
      bucket: null,
      device: 'cpu',
      dtype: 'float32',
    })
    const example = fixture('example-response.json')
    expect(Object.keys(result).sort()).toEqual([...Object.keys(example), 'results'].sort())
    expect(Object.keys(result.meta).sort()).toEqual(Object.keys(example.meta).sort())
    expect(result).toMatchObject({
      status: 'ok',
      count: 2,
      uploaded: true,
      presigned_urls: ['http://x/a', 'http://x/b'],
      s3_bucket: null,
      s3_keys: assets.map((asset) => asset.key),
      results: [{ url: 'http://x/a' }, { url: 'http://x/b' }],
      meta: {
        height: 1024,
        width: 1024,
        num_inference_steps: 8,
        guidance_scale: 1,
        num_images: 2,
        seed: 2025,
        dtype: 'float32',
        device: 'cpu',
        time_sec: 1.23,
        format: 'PNG',
      },
    })
  })

  it('reports the format the way the worker spells it', () => {
    const job = fakeJob({ request: fakeRequest({ output: { format: 'jpeg', quality: 90 } }) })
    const result = toWorkerResult(job, fakeAssets(job), {
      urls: ['u'],
      bucket: 'b',
      device: 'cpu',
      dtype: 'f',
    })
    expect(result.meta.format).toBe('JPG')
    expect(result.s3_bucket).toBe('b')
  })
})

describe('statuses', () => {
  it.each([
    ['queued', false, 'IN_QUEUE'],
    ['running', false, 'IN_PROGRESS'],
    ['succeeded', false, 'COMPLETED'],
    ['failed', false, 'FAILED'],
    ['canceled', false, 'CANCELLED'],
    ['canceled', true, 'TIMED_OUT'],
    ['failed', true, 'TIMED_OUT'],
  ] as const)('%s (timed out: %s) → %s', (state, timedOut, status) => {
    expect(toRunPodStatus(state, timedOut)).toBe(status)
  })

  it('delayTime is queue time and executionTime run time, in ms', () => {
    const body = toJobStatus(fakeJob({ createdAt: at(0), startedAt: at(300), finishedAt: at(2300) }), {
      timedOut: false,
      output: { status: 'ok' },
      now: at(5000),
    })
    expect(body).toEqual({
      id: '01hzzzzzzzzzzzzzzzzzzzzzzz',
      status: 'COMPLETED',
      delayTime: 300,
      executionTime: 2000,
      output: { status: 'ok' },
    })
  })

  it('a queued job has neither time yet; a failed one carries its error', () => {
    const queued = toJobStatus(fakeJob({ state: 'queued', startedAt: null, finishedAt: null }), {
      timedOut: false,
      now: at(10),
    })
    expect(queued).toEqual({ id: '01hzzzzzzzzzzzzzzzzzzzzzzz', status: 'IN_QUEUE' })
    const failed = toJobStatus(
      fakeJob({ state: 'failed', error: { code: 'MODEL_RUN_FAILED', message: 'boom' } }),
      { timedOut: false, now: at(10) },
    )
    expect(failed).toMatchObject({ status: 'FAILED', error: 'boom' })
    expect(failed.output).toBeUndefined()
  })

  it('health maps queue counts and workers', () => {
    const health = toHealth({ queued: 4, running: 1, succeeded: 9, failed: 2, canceled: 1, retried: 3 }, 2)
    expect(health).toEqual({
      jobs: { completed: 9, failed: 2, inProgress: 1, inQueue: 4, retried: 3 },
      workers: { idle: 1, initializing: 0, ready: 1, running: 1, throttled: 0, unhealthy: 0 },
    })
  })
})
