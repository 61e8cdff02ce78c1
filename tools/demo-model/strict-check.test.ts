import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'
import { describe, expect, it } from 'vitest'
import { type ColorName, PALETTE, parseCaption, type ShapeName } from './checker.js'
import { strictCheck } from './strict-check.js'

const FIXTURES = join(import.meta.dirname, 'fixtures')
const files = readdirSync(FIXTURES).filter((f) => f.endsWith('.png'))

async function readRgb(path: string, size?: number) {
  const image = sharp(path).removeAlpha()
  if (size !== undefined) image.resize(size, size, { kernel: 'lanczos3' })
  const { data, info } = await image.raw().toBuffer({ resolveWithObject: true })
  return { rgb: new Uint8Array(data), width: info.width, height: info.height }
}

function wantOf(file: string) {
  const caption = parseCaption(file.replace('.png', '').replaceAll('-', ' '))
  return {
    shapeColor: caption.shapeColor as ColorName,
    backgroundColor: caption.backgroundColor as ColorName,
    shape: caption.shape as ShapeName,
  }
}

describe('strictCheck on clean renderings (tools/demo-model/fixtures)', () => {
  for (const size of [64, 128, 256]) {
    it(`passes every rendering at ${size} px (upscaled with Lanczos3 like the resize policy)`, async () => {
      // at 256 px one rendering of each shape keeps the test quick
      const some =
        size < 256
          ? files
          : ['circle', 'square', 'triangle', 'star'].map((k) => files.find((f) => f.includes(k))!)
      for (const file of some) {
        const { rgb, width, height } = await readRgb(join(FIXTURES, file), size === 64 ? undefined : size)
        const result = strictCheck(rgb, width, height, wantOf(file))
        expect(result, file).toMatchObject({ pass: true, components: 1 })
      }
    })
  }
})

describe('strictCheck fails what the old check let through', () => {
  const file = files.find((f) => f.includes('circle'))!

  it('a speck of the shape colour elsewhere (two components)', async () => {
    const { rgb, width, height } = await readRgb(join(FIXTURES, file))
    const want = wantOf(file)
    const corner = (2 * width + 2) * 3
    for (const dx of [0, 3])
      for (const dy of [0, width * 3]) rgb.set(PALETTE[want.shapeColor], corner + dx + dy)
    const result = strictCheck(rgb, width, height, want)
    expect(result.components).toBe(2)
    expect(result.pass).toBe(false)
  })

  it('the right colours but another shape than asked (IoU below 0.8)', async () => {
    const { rgb, width, height } = await readRgb(join(FIXTURES, file))
    const result = strictCheck(rgb, width, height, { ...wantOf(file), shape: 'star' })
    expect(result.pass).toBe(false)
    expect(result.iou).toBeLessThan(0.8)
  })
})
