import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'
import { describe, expect, it } from 'vitest'
import { type CheckResult, checkImage, hullArea, PALETTE, parseCaption } from './checker.js'

const FIXTURES = join(import.meta.dirname, 'fixtures')
// written by make_fixtures.py with the Python checker
const expected = JSON.parse(readFileSync(join(FIXTURES, 'expected.json'), 'utf8')) as Record<
  string,
  CheckResult
>

async function readRgb(path: string): Promise<{ rgb: Uint8Array; width: number; height: number }> {
  const { data, info } = await sharp(path).removeAlpha().raw().toBuffer({ resolveWithObject: true })
  return { rgb: new Uint8Array(data), width: info.width, height: info.height }
}

function solid(width: number, height: number, color: readonly number[]): Uint8Array {
  const rgb = new Uint8Array(width * height * 3)
  for (let p = 0; p < width * height; p++) rgb.set(color, p * 3)
  return rgb
}

describe('checkImage on ground-truth renderings (tools/demo-model/fixtures)', () => {
  const files = readdirSync(FIXTURES).filter((f) => f.endsWith('.png'))

  it('has fixtures for every shape', () => {
    for (const shape of ['circle', 'square', 'triangle', 'star'])
      expect(files.some((f) => f.includes(shape))).toBe(true)
  })

  for (const file of files) {
    it(file, async () => {
      const { rgb, width, height } = await readRgb(join(FIXTURES, file))
      const result = checkImage(rgb, width, height)
      const caption = parseCaption(file.replace('.png', '').replaceAll('-', ' '))
      expect(result.shapeColor).toBe(caption.shapeColor)
      expect(result.backgroundColor).toBe(caption.backgroundColor)
      expect(result.shape).toBe(caption.shape)
      const python = expected[file]
      expect(result.features?.area).toBe(python.features?.area)
      expect(result.features?.fill).toBeCloseTo(python.features?.fill ?? Number.NaN, 5)
      expect(result.features?.solidity).toBeCloseTo(python.features?.solidity ?? Number.NaN, 5)
      expect(result.features?.drop).toBeCloseTo(python.features?.drop ?? Number.NaN, 5)
    })
  }
})

describe('checkImage edge cases', () => {
  it('reports no shape on a plain image', () => {
    expect(checkImage(solid(64, 64, PALETTE.blue), 64, 64)).toEqual({
      shapeColor: 'none',
      backgroundColor: 'blue',
      shape: 'none',
    })
  })

  it('ignores specks smaller than the minimum area', () => {
    const rgb = solid(64, 64, PALETTE.white)
    rgb.set(PALETTE.red, (30 * 64 + 30) * 3)
    expect(checkImage(rgb, 64, 64)).toMatchObject({
      shapeColor: 'red',
      backgroundColor: 'white',
      shape: 'none',
    })
  })

  it('finds a drawn square', () => {
    const rgb = solid(64, 64, PALETTE.black)
    for (let y = 20; y < 40; y++) for (let x = 10; x < 30; x++) rgb.set(PALETTE.yellow, (y * 64 + x) * 3)
    expect(checkImage(rgb, 64, 64)).toMatchObject({
      shapeColor: 'yellow',
      backgroundColor: 'black',
      shape: 'square',
    })
  })

  it('rejects a buffer of the wrong size', () => {
    expect(() => checkImage(new Uint8Array(10), 64, 64)).toThrow(RangeError)
  })

  it('measures the hull of a single pixel as 1', () => {
    expect(hullArea([0], 64)).toBe(1)
  })
})

describe('parseCaption', () => {
  it('reads every attribute', () => {
    expect(parseCaption('a large red circle on a blue background, top left')).toEqual({
      shapeColor: 'red',
      backgroundColor: 'blue',
      shape: 'circle',
      size: 'large',
      position: 'top left',
    })
  })

  it('handles articles, case and missing parts', () => {
    expect(parseCaption('An Orange star on an orange background')).toMatchObject({
      shapeColor: 'orange',
      backgroundColor: 'orange',
      shape: 'star',
      size: null,
      position: null,
    })
    expect(parseCaption('a small green square, center')).toMatchObject({
      backgroundColor: null,
      position: 'center',
    })
  })
})
