import sharp from 'sharp'
import { describe, expect, it } from 'vitest'
import type { RawImage } from '../pipeline.js'
import { encodeImage } from './encode-image.js'
import type { GenerationParameters } from './generation-parameters.js'
import { readParameters, readParametersText } from './read-parameters.js'

/** A smooth gradient with some texture, so lossy quality settings visibly change the byte count. */
function makeImage(width: number, height: number): RawImage {
  const rgb = new Uint8Array(width * height * 3)
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3
      rgb[i] = (x * 4) & 0xff
      rgb[i + 1] = (y * 4) & 0xff
      rgb[i + 2] = (x * y + ((x * 7919) ^ (y * 104729))) & 0xff
    }
  }
  return { width, height, rgb, seed: 42 }
}

const IMAGE = makeImage(64, 48)
const PARAMETERS: GenerationParameters = {
  prompt: 'a fox, "sly" & café — 狐狸 🦊\nsecond line',
  negativePrompt: 'blurry, low quality',
  steps: 20,
  sampler: 'euler_ancestral',
  scheduler: 'karras',
  cfg: 7.5,
  seed: 42,
  width: 64,
  height: 48,
  model: 'pigment-shapes',
  extra: { Version: 'pigment 0.1.0' },
}
const FORMATS = ['png', 'jpeg', 'webp'] as const

describe('encodeImage', () => {
  it.each(FORMATS)('%s: sharp decodes it with the right format and size', async (format) => {
    const bytes = await encodeImage(IMAGE, { format, parameters: PARAMETERS })
    const meta = await sharp(bytes).metadata()
    expect(meta.format).toBe(format)
    expect([meta.width, meta.height]).toEqual([64, 48])
    const { data, info } = await sharp(bytes).raw().toBuffer({ resolveWithObject: true })
    expect(info.channels).toBe(3)
    expect(data.length).toBe(64 * 48 * 3)
  })

  it.each(FORMATS)('%s: parameters round-trip through readParameters', async (format) => {
    const bytes = await encodeImage(IMAGE, { format, quality: 80, parameters: PARAMETERS })
    expect(readParameters(bytes)).toEqual(PARAMETERS)
  })

  it('PNG pixels are lossless', async () => {
    const bytes = await encodeImage(IMAGE, { format: 'png', parameters: PARAMETERS })
    const decoded = await sharp(bytes).raw().toBuffer()
    expect(Buffer.compare(decoded, Buffer.from(IMAGE.rgb))).toBe(0)
  })

  it('PNG stores the text in a chunk named "parameters", right after IHDR', async () => {
    const latin = await encodeImage(IMAGE, { format: 'png', parameters: { ...PARAMETERS, prompt: 'café' } })
    expect(latin.toString('latin1', 37, 41)).toBe('tEXt')
    expect(latin.toString('latin1', 41, 52)).toBe('parameters\0')
    const unicode = await encodeImage(IMAGE, { format: 'png', parameters: PARAMETERS })
    expect(unicode.toString('latin1', 37, 41)).toBe('iTXt')
    expect(unicode.toString('latin1', 41, 52)).toBe('parameters\0')
  })

  it.each(['jpeg', 'webp'] as const)('%s: sharp sees the EXIF block the text lives in', async (format) => {
    const bytes = await encodeImage(IMAGE, { format, parameters: PARAMETERS })
    const exif = (await sharp(bytes).metadata()).exif
    expect(exif).toBeDefined()
    // UNICODE charset header of the UserComment, as piexif writes it for A1111.
    expect(exif?.includes(Buffer.from('UNICODE\0', 'latin1'))).toBe(true)
  })

  it.each(['jpeg', 'webp'] as const)('%s: quality changes the byte size', async (format) => {
    const low = await encodeImage(IMAGE, { format, quality: 10 })
    const high = await encodeImage(IMAGE, { format, quality: 95 })
    expect(high.length).toBeGreaterThan(low.length)
  })

  it('rejects quality outside 1–100 and unknown formats, naming the option', async () => {
    await expect(encodeImage(IMAGE, { format: 'jpeg', quality: 0 })).rejects.toThrow(/quality/)
    await expect(encodeImage(IMAGE, { format: 'webp', quality: 101 })).rejects.toThrow(RangeError)
    await expect(encodeImage(IMAGE, { format: 'jpeg', quality: 50.5 })).rejects.toThrow(/quality/)
    // @ts-expect-error: a caller outside TypeScript can pass anything
    await expect(encodeImage(IMAGE, { format: 'gif' })).rejects.toThrow(/format/)
  })

  it('rejects an RGB buffer of the wrong length', async () => {
    await expect(encodeImage({ ...IMAGE, width: 65 }, { format: 'png' })).rejects.toThrow(/rgb/)
  })
})

describe('readParameters', () => {
  it.each(FORMATS)('%s without metadata → null', async (format) => {
    const bytes = await encodeImage(IMAGE, { format })
    expect(readParameters(bytes)).toBeNull()
  })

  it('garbage or truncated bytes → null, not a throw', async () => {
    expect(readParameters(new Uint8Array(0))).toBeNull()
    expect(readParameters(new TextEncoder().encode('not an image at all'))).toBeNull()
    for (const format of FORMATS) {
      const bytes = await encodeImage(IMAGE, { format, parameters: PARAMETERS })
      for (const cut of [3, 12, 20, 40, 60, 100, 200]) {
        expect(() => readParameters(bytes.subarray(0, cut))).not.toThrow()
      }
      const mangled = Buffer.from(bytes)
      for (let i = 12; i < 400 && i < mangled.length; i += 7) mangled[i] ^= 0x5a
      expect(() => readParameters(mangled)).not.toThrow()
    }
  })

  it('a truncated JPEG still yields the text when the EXIF segment survived', async () => {
    const bytes = await encodeImage(IMAGE, { format: 'jpeg', parameters: PARAMETERS })
    expect(readParameters(bytes.subarray(0, bytes.length - 100))).toEqual(PARAMETERS)
  })

  it('reads EXIF written by another tool (sharp, little-endian, ASCII charset)', async () => {
    const other = await sharp(IMAGE.rgb, { raw: { width: 64, height: 48, channels: 3 } })
      .withExif({
        IFD2: { UserComment: 'hello\nSteps: 4, Sampler: Euler, CFG scale: 1, Seed: 9, Size: 64x48' },
      })
      .jpeg()
      .toBuffer()
    expect(readParametersText(other)).toContain('Seed: 9')
    expect(readParameters(other)?.seed).toBe(9)
  })
})
