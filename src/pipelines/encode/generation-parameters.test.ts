import { describe, expect, it } from 'vitest'
import { formatParameters, type GenerationParameters, parseParameters } from './generation-parameters.js'

const BASE: GenerationParameters = {
  prompt: 'a red fox in snow',
  negativePrompt: 'blurry',
  steps: 20,
  sampler: 'euler_ancestral',
  scheduler: 'karras',
  cfg: 7,
  seed: 42,
  width: 512,
  height: 768,
  model: 'sd-turbo',
}

describe('formatParameters', () => {
  it('writes the A1111 infotext layout with display names', () => {
    expect(formatParameters(BASE)).toBe(
      'a red fox in snow\nNegative prompt: blurry\n' +
        'Steps: 20, Sampler: Euler a, Schedule type: Karras, CFG scale: 7, Seed: 42, Size: 512x768, Model: sd-turbo',
    )
  })

  it('omits the negative prompt line when there is none', () => {
    expect(formatParameters({ ...BASE, negativePrompt: '' })).toBe(
      'a red fox in snow\nSteps: 20, Sampler: Euler a, Schedule type: Karras, CFG scale: 7, Seed: 42, Size: 512x768, Model: sd-turbo',
    )
  })

  it('JSON-quotes values holding commas or colons, as A1111 does', () => {
    const text = formatParameters({ ...BASE, model: 'org/model, v2', extra: { 'Lora hashes': 'a: 1, b: 2' } })
    expect(text).toContain('Model: "org/model, v2", Lora hashes: "a: 1, b: 2"')
  })

  it('rejects an extra key A1111 could not parse back', () => {
    expect(() => formatParameters({ ...BASE, extra: { 'bad:key': 'x' } })).toThrow(/extra key/)
    expect(() => formatParameters({ ...BASE, extra: { Seed: '1' } })).toThrow(RangeError)
  })
})

describe('parseParameters', () => {
  it('round-trips prompts with newlines, commas, quotes and unicode', () => {
    const tricky: GenerationParameters = {
      ...BASE,
      prompt: '"quoted", 狐狸 🦊, café\nsecond line: with colon\n  indented',
      negativePrompt: 'ugly, "bad"\nNegative-looking: no',
      sampler: 'dpmpp_2m',
      scheduler: 'sgm_uniform',
      cfg: 4.5,
      seed: 4294967295,
      model: 'stabilityai/sd-turbo',
      extra: { 'Model hash': '6ce0161689', Notes: '"starts with a quote', Padded: ' x ' },
    }
    expect(parseParameters(formatParameters(tricky))).toEqual(tricky)
  })

  it('round-trips empty prompt, scheduler and model', () => {
    const sparse = { ...BASE, prompt: '', negativePrompt: '', scheduler: '', model: '' }
    expect(parseParameters(formatParameters(sparse))).toEqual(sparse)
  })

  it('passes unknown sampler names through both ways', () => {
    const custom = { ...BASE, sampler: 'my_sampler', scheduler: 'linear_quadratic' }
    const text = formatParameters(custom)
    expect(text).toContain('Sampler: my_sampler, Schedule type: linear_quadratic')
    expect(parseParameters(text)).toEqual(custom)
  })

  it('reads text written by A1111 itself, including the pre-1.9 sampler names', () => {
    const a1111 =
      'masterpiece, 1girl\nNegative prompt: lowres, bad anatomy\n' +
      'Steps: 28, Sampler: DPM++ 2M Karras, CFG scale: 7.0, Seed: 965400086, Size: 512x640, ' +
      'Model hash: 45dee52b, Model: anything-v3, Version: v1.6.0'
    expect(parseParameters(a1111)).toEqual({
      prompt: 'masterpiece, 1girl',
      negativePrompt: 'lowres, bad anatomy',
      steps: 28,
      sampler: 'dpmpp_2m',
      scheduler: 'karras',
      cfg: 7,
      seed: 965400086,
      width: 512,
      height: 640,
      model: 'anything-v3',
      extra: { 'Model hash': '45dee52b', Version: 'v1.6.0' },
    })
  })

  it('returns null for text that is not infotext', () => {
    expect(parseParameters('just a caption, nothing else')).toBeNull()
    expect(parseParameters('')).toBeNull()
    expect(parseParameters('p\nSteps: x, Sampler: Euler, CFG scale: 7, Seed: 1, Size: 8x8')).toBeNull()
  })
})
