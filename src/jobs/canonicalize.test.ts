import { describe, expect, it } from 'vitest'
import { isPigmentError } from '../core/errors.js'
import { type CanonicalizeContext, canonicalize } from './canonicalize.js'

const context: CanonicalizeContext = {
  model: {
    name: 'shapes',
    defaults: {
      steps: 20,
      cfg: 4,
      sampler: 'euler',
      scheduler: 'beta',
      width: 512,
      height: 768,
      negativePrompt: 'blur',
    },
    limits: { minSize: 64, maxSize: 1024, sizeMultiple: 16, maxSteps: 100, minCfg: 0, maxCfg: 30 },
  },
  limits: { maxPixels: 1024 * 1024, maxSteps: 150, maxImages: 4 },
  origin: { keyId: null, source: 'native' },
  resolveSampler: (name) => {
    if (name === 'euler' || name === 'euler_a') return name === 'euler_a' ? 'euler_ancestral' : name
    throw new RangeError(`unknown sampler "${name}"`)
  },
  resolveScheduler: (name) => {
    if (['beta', 'karras', 'simple'].includes(name)) return name
    throw new RangeError(`unknown scheduler "${name}"`)
  },
  randomSeed: () => 1234,
}

function rejection(input: Parameters<typeof canonicalize>[0], overrides: Partial<CanonicalizeContext> = {}) {
  try {
    canonicalize(input, { ...context, ...overrides })
  } catch (error) {
    if (isPigmentError(error)) return { code: error.code, field: error.field, message: error.message }
    throw error
  }
  throw new Error('expected a rejection')
}

describe('canonicalize', () => {
  it('fills every left-out value from the manifest and draws a seed', () => {
    const request = canonicalize({ prompt: 'a cube' }, context)
    expect(request).toMatchObject({
      prompt: 'a cube',
      negativePrompt: 'blur',
      model: 'shapes',
      width: 512,
      height: 768,
      steps: 20,
      cfg: 4,
      sampler: 'euler',
      scheduler: 'beta',
      seed: 1234,
      seedWasRandom: true,
      n: 1,
      output: { format: 'png', quality: 90 },
      priority: 0,
    })
  })

  it('keeps given values, resolving sampler aliases to canonical names', () => {
    const request = canonicalize(
      {
        prompt: 'x',
        width: 1024,
        height: 1024,
        steps: 100,
        cfg: 0,
        sampler: 'euler_a',
        seed: 0,
        n: 4,
        output: { format: 'webp', quality: 50 },
      },
      { ...context, priority: 5 },
    )
    expect(request).toMatchObject({
      width: 1024,
      steps: 100,
      cfg: 0,
      sampler: 'euler_ancestral',
      seed: 0,
      seedWasRandom: false,
    })
    expect(request.output).toEqual({ format: 'webp', quality: 50 })
    expect(request.priority).toBe(5)
  })

  it('rejects values outside the model or server limits, naming the field', () => {
    expect(rejection({ prompt: 'x', width: 7 })).toMatchObject({
      code: 'REQUEST_INVALID_PARAM',
      field: 'width',
    })
    expect(rejection({ prompt: 'x', height: 1040 }).message).toMatch(
      /height: must be between 64 and 1024 for model shapes/,
    )
    expect(rejection({ prompt: 'x', width: 520 }).message).toMatch(/multiple of 16/)
    expect(
      rejection(
        { prompt: 'x', width: 1024, height: 1024 },
        { limits: { ...context.limits, maxPixels: 512 * 512 } },
      ).field,
    ).toBe('width')
    expect(rejection({ prompt: 'x', steps: 101 }).field).toBe('steps')
    expect(rejection({ prompt: 'x', steps: 0 }).field).toBe('steps')
    expect(rejection({ prompt: 'x', cfg: 31 }).field).toBe('cfg')
    expect(rejection({ prompt: 'x', n: 5 }).field).toBe('n')
    expect(rejection({ prompt: '   ' }).field).toBe('prompt')
    expect(rejection({ prompt: 'x', sampler: 'warp' })).toMatchObject({
      field: 'sampler',
      message: 'sampler: unknown sampler "warp"',
    })
    expect(rejection({ prompt: 'x', scheduler: 'often' }).field).toBe('scheduler')
    expect(rejection({ prompt: 'x', output: { quality: 0 } }).field).toBe('quality')
  })

  it('uses the stricter of the server and model step limits', () => {
    expect(rejection({ prompt: 'x', steps: 60 }, { limits: { ...context.limits, maxSteps: 50 } }).field).toBe(
      'steps',
    )
  })
})
