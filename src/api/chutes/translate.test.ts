import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { errors } from '../../core/errors.js'
import type { GenerateBody } from './schema.js'
import { toChutesError, toGenerationInput } from './translate.js'

const example: GenerateBody = JSON.parse(
  readFileSync(new URL('../../../test/fixtures/dialects/chutes/generate.json', import.meta.url), 'utf8'),
)

describe('toGenerationInput', () => {
  it('the documented curl example → canonical input (guidance_scale acts when true_cfg_scale is absent)', () => {
    expect(toGenerationInput(example)).toEqual({
      prompt: 'A beautiful sunset over mountains',
      model: 'qwen-image',
      negativePrompt: 'blur, distortion, low quality',
      width: 1024,
      height: 1024,
      steps: 50,
      cfg: 7.5,
      n: 1,
      output: { format: 'jpeg' },
    })
  })

  it('defaults: 1024x1024, 50 steps, true_cfg_scale 4, random seed, JPEG', () => {
    expect(toGenerationInput({ prompt: 'p' })).toEqual({
      prompt: 'p',
      width: 1024,
      height: 1024,
      steps: 50,
      cfg: 4,
      n: 1,
      output: { format: 'jpeg' },
    })
  })

  it('true_cfg_scale wins over guidance_scale', () => {
    expect(toGenerationInput({ prompt: 'p', true_cfg_scale: 2, guidance_scale: 9 }).cfg).toBe(2)
  })

  it('width, height, num_inference_steps and seed pass through', () => {
    expect(
      toGenerationInput({ prompt: 'p', width: 512, height: 256, num_inference_steps: 8, seed: 3 }),
    ).toMatchObject({ width: 512, height: 256, steps: 8, seed: 3 })
  })
})

describe('toChutesError', () => {
  it('a missing field is FastAPI 422 with its location', () => {
    expect(toChutesError(errors.VALIDATION_FAILED('prompt: is required', { field: 'prompt' }))).toEqual({
      status: 422,
      body: { detail: [{ type: 'missing', loc: ['body', 'prompt'], msg: 'Field required' }] },
    })
  })

  it('a canonical field name is reported under the name the caller used', () => {
    const { status, body } = toChutesError(
      errors.REQUEST_INVALID_PARAM('steps: must be between 1 and 50, got 99', { field: 'steps' }),
    )
    expect(status).toBe(422)
    expect(body.detail).toEqual([
      { type: 'value_error', loc: ['body', 'num_inference_steps'], msg: 'must be between 1 and 50, got 99' },
    ])
  })

  it('other errors keep their status with a detail string; bugs do not leak', () => {
    expect(toChutesError(errors.AUTH_UNAUTHORIZED('Missing API key.'))).toEqual({
      status: 401,
      body: { detail: 'Missing API key.' },
    })
    expect(toChutesError(errors.MODEL_NOT_FOUND('no model "x"')).status).toBe(404)
    expect(toChutesError(errors.QUEUE_FULL('full')).status).toBe(429)
    expect(toChutesError(errors.INTERNAL('stack trace here'))).toEqual({
      status: 500,
      body: { detail: 'Internal Server Error' },
    })
  })
})
