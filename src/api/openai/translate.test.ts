import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { type ErrorCode, errors, isPigmentError } from '../../core/errors.js'
import type { ModelProfile } from '../../jobs/canonicalize.js'
import { fakeAssets, fakeJob, fakeRequest } from '../testing/records.js'
import type { GenerateBody } from './schema.js'
import { toImagesResponse, toModelList, toOpenAIError, toSubmission } from './translate.js'

const MODEL: ModelProfile = { name: 'tiny', defaults: { steps: 20 }, limits: { maxSteps: 25 } }
const example: GenerateBody = JSON.parse(
  readFileSync(new URL('../../../test/fixtures/dialects/openai/generate.json', import.meta.url), 'utf8'),
)

function rejection(fn: () => unknown) {
  try {
    fn()
  } catch (error) {
    if (isPigmentError(error)) return error
    throw error
  }
  throw new Error('expected an error')
}

describe('toSubmission', () => {
  it("the client's documented example → one PNG at the model's defaults, answered by URL", () => {
    expect(toSubmission(example, MODEL)).toEqual({
      input: { prompt: 'A cute baby sea otter', n: 1, output: { format: 'png' } },
      responseFormat: 'url',
      quality: 'medium',
    })
  })

  it('size sets both dimensions; auto keeps the model default', () => {
    expect(toSubmission({ prompt: 'p', size: '1536x1024' }, MODEL).input).toMatchObject({
      width: 1536,
      height: 1024,
    })
    expect(toSubmission({ prompt: 'p', size: 'auto' }, MODEL).input.width).toBeUndefined()
  })

  it('rejects a size that is not WxH, naming size', () => {
    const error = rejection(() => toSubmission({ prompt: 'p', size: 'big' }, MODEL))
    expect(error.field).toBe('size')
  })

  it('n and model pass through', () => {
    expect(toSubmission({ prompt: 'p', n: 4, model: 'chroma' }, MODEL).input).toMatchObject({
      n: 4,
      model: 'chroma',
    })
  })

  it.each([
    ['low', 10, 'low'],
    ['medium', undefined, 'medium'],
    ['standard', undefined, 'medium'],
    ['auto', undefined, 'medium'],
    ['high', 25, 'high'], // 30 capped at the model's 25
    ['hd', 25, 'high'],
  ] as const)('quality %s → steps %s, reported as %s', (quality, steps, reported) => {
    const submission = toSubmission({ prompt: 'p', quality }, MODEL)
    expect(submission.input.steps).toBe(steps)
    expect(submission.quality).toBe(reported)
  })

  it('output_format picks the encoding; output_compression is the jpeg/webp quality, default 100', () => {
    expect(toSubmission({ prompt: 'p', output_format: 'jpeg' }, MODEL).input.output).toEqual({
      format: 'jpeg',
      quality: 100,
    })
    expect(
      toSubmission({ prompt: 'p', output_format: 'webp', output_compression: 40 }, MODEL).input.output,
    ).toEqual({
      format: 'webp',
      quality: 40,
    })
    expect(toSubmission({ prompt: 'p', output_compression: 40 }, MODEL).input.output).toEqual({
      format: 'png',
    })
  })

  it('response_format b64_json is kept for the response', () => {
    expect(toSubmission({ prompt: 'p', response_format: 'b64_json' }, MODEL).responseFormat).toBe('b64_json')
  })

  it('background opaque/auto are fine; transparent is refused, naming background', () => {
    expect(() => toSubmission({ prompt: 'p', background: 'opaque' }, MODEL)).not.toThrow()
    expect(rejection(() => toSubmission({ prompt: 'p', background: 'transparent' }, MODEL)).field).toBe(
      'background',
    )
  })

  it('stream is refused, naming stream', () => {
    expect(rejection(() => toSubmission({ prompt: 'p', stream: true }, MODEL)).field).toBe('stream')
  })

  it('ignored fields do not change the input', () => {
    const plain = toSubmission({ prompt: 'p' }, MODEL)
    const extra = toSubmission({ prompt: 'p', style: 'vivid', user: 'u', moderation: 'low' }, MODEL)
    expect(extra).toEqual(plain)
  })
})

describe('toImagesResponse', () => {
  it('lists the images with the format, size and quality used', () => {
    const job = fakeJob({
      request: fakeRequest({ n: 2, width: 64, height: 32, output: { format: 'webp', quality: 80 } }),
    })
    const response = toImagesResponse(job, fakeAssets(job), [{ url: 'u0' }, { url: 'u1' }], {
      input: { prompt: 'p' },
      responseFormat: 'url',
      quality: 'high',
    })
    expect(response).toEqual({
      created: Math.floor(job.finishedAt!.getTime() / 1000),
      data: [{ url: 'u0' }, { url: 'u1' }],
      background: 'opaque',
      output_format: 'webp',
      quality: 'high',
      size: '64x32',
    })
  })
})

describe('toModelList', () => {
  it('lists names and aliases as model ids', () => {
    expect(toModelList([{ name: 'tiny', aliases: ['dall-e-3'] }], 7)).toEqual({
      object: 'list',
      data: [
        { id: 'tiny', object: 'model', created: 7, owned_by: 'pigment' },
        { id: 'dall-e-3', object: 'model', created: 7, owned_by: 'pigment' },
      ],
    })
  })
})

describe('toOpenAIError', () => {
  it('a missing parameter reads as OpenAI words it', () => {
    const { status, body } = toOpenAIError(
      errors.VALIDATION_FAILED('prompt: is required', { field: 'prompt' }),
    )
    expect(status).toBe(400)
    expect(body).toEqual({
      error: {
        message: "Missing required parameter: 'prompt'.",
        type: 'invalid_request_error',
        param: 'prompt',
        code: 'missing_required_parameter',
      },
    })
  })

  it('a wrong type is invalid_type, a bad value invalid_value', () => {
    const type = toOpenAIError(errors.VALIDATION_FAILED('n: must be an integer, got "2"', { field: 'n' }))
    expect(type.body.error).toMatchObject({ code: 'invalid_type', param: 'n' })
    expect(type.body.error.message).toBe(`Invalid type for 'n': must be an integer, got "2".`)
    const value = toOpenAIError(errors.VALIDATION_FAILED('n: must be <= 10, got 11', { field: 'n' }))
    expect(value.body.error).toMatchObject({ code: 'invalid_value', param: 'n' })
  })

  it('an unknown model is 404 model_not_found with OpenAI wording', () => {
    const { status, body } = toOpenAIError(
      errors.MODEL_NOT_FOUND('no model', { field: 'model', details: { model: 'dall-e-9' } }),
    )
    expect(status).toBe(404)
    expect(body.error).toEqual({
      message: 'The model `dall-e-9` does not exist or you do not have access to it.',
      type: 'invalid_request_error',
      param: 'model',
      code: 'model_not_found',
    })
  })

  it.each([
    ['AUTH_UNAUTHORIZED', 401, 'invalid_request_error', 'invalid_api_key'],
    ['AUTH_FORBIDDEN', 403, 'invalid_request_error', 'insufficient_permissions'],
    ['QUEUE_FULL', 429, 'requests', 'rate_limit_exceeded'],
    ['CREDITS_INSUFFICIENT', 429, 'insufficient_quota', 'insufficient_quota'],
    ['REQUEST_TIMEOUT', 504, 'server_error', 'timeout'],
    ['UNAVAILABLE', 503, 'server_error', null],
    ['MODEL_NOT_CONFIGURED', 503, 'server_error', null],
    ['MODEL_RUN_FAILED', 500, 'server_error', null],
    ['PAYLOAD_TOO_LARGE', 413, 'invalid_request_error', null],
  ] as const)('%s → %i %s/%s', (code, status, type, errorCode) => {
    const rendered = toOpenAIError(errors[code as ErrorCode]('x'))
    expect(rendered.status).toBe(status)
    expect(rendered.body.error).toMatchObject({ type, code: errorCode })
  })
})
