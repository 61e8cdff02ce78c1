import { describe, expect, it } from 'vitest'
import { errors } from '../core/errors.js'
import type { ImageSettings } from '../core/generation-request.js'
import { FAMILY_DEFAULTS, type ModelManifest } from './manifest.js'
import type { RawImage } from './pipeline.js'
import { smallerSize, withOomFallback } from './pipeline-support.js'

const manifest: ModelManifest = { ...FAMILY_DEFAULTS.sd, name: 'test' }
const settings: ImageSettings = {
  prompt: 'p',
  negativePrompt: '',
  model: 'test',
  width: 1024,
  height: 768,
  steps: 1,
  cfg: 1,
  sampler: 'euler',
  scheduler: 'normal',
  seed: 3,
  n: 1,
}

/** A generator that runs out of memory above `maxPixels`. */
function limited(maxPixels: number) {
  const sizes: string[] = []
  const generate = async (s: ImageSettings): Promise<RawImage[]> => {
    sizes.push(`${s.width}x${s.height}`)
    if (s.width * s.height > maxPixels) throw errors.MODEL_OUT_OF_MEMORY('Failed to allocate memory')
    return [{ width: s.width, height: s.height, rgb: new Uint8Array(0), seed: s.seed }]
  }
  return { sizes, generate }
}

describe('withOomFallback', () => {
  it('retries at half the area, in size multiples, and says which size was asked for', async () => {
    const { sizes, generate } = limited(300_000)
    const [image] = await withOomFallback(settings, manifest, true, generate)
    expect(sizes).toEqual(['1024x768', '720x536', '504x376'])
    expect(image).toMatchObject({ width: 504, height: 376, downscaledFrom: { width: 1024, height: 768 } })
  })

  it('fails as before when the caller does not allow a smaller image', async () => {
    const { sizes, generate } = limited(300_000)
    await expect(withOomFallback(settings, manifest, false, generate)).rejects.toMatchObject({
      code: 'MODEL_OUT_OF_MEMORY',
    })
    expect(sizes).toEqual(['1024x768'])
  })

  it('leaves images that fit untouched', async () => {
    const { generate } = limited(Number.POSITIVE_INFINITY)
    const [image] = await withOomFallback(settings, manifest, true, generate)
    expect(image.downscaledFrom).toBeUndefined()
  })

  it('gives up at the minimum size and passes other errors through', async () => {
    expect(smallerSize(64, 64, manifest)).toBeUndefined()
    const failing = async (): Promise<RawImage[]> => {
      throw errors.MODEL_RUN_FAILED('boom')
    }
    await expect(withOomFallback(settings, manifest, true, failing)).rejects.toMatchObject({
      code: 'MODEL_RUN_FAILED',
    })
  })
})
