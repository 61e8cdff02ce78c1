import { describe, expect, it } from 'vitest'
import { nearestNativeSize, RESIZABLE_SIZES, requestableSizes } from './size-policy.js'

describe('nearestNativeSize', () => {
  const range = { minSize: 64, maxSize: 256, sizeMultiple: 16, outOfRange: 'resize' as const }

  it('keeps a size the model takes as it is', () => {
    expect(nearestNativeSize(128, 192, range)).toEqual({ width: 128, height: 192 })
  })

  it('scales a larger request down into the range, keeping the aspect ratio', () => {
    expect(nearestNativeSize(1024, 1024, range)).toEqual({ width: 256, height: 256 })
    expect(nearestNativeSize(1344, 768, range)).toEqual({ width: 256, height: 144 })
  })

  it('scales a smaller request up and rounds to the size multiple', () => {
    expect(nearestNativeSize(40, 40, range)).toEqual({ width: 64, height: 64 })
    expect(nearestNativeSize(200, 120, range)).toEqual({ width: 208, height: 128 })
  })

  it('clamps each side when the ratio does not fit the range', () => {
    expect(nearestNativeSize(2048, 256, range)).toEqual({ width: 256, height: 64 })
  })

  it('gives a one-size model its size whatever is asked', () => {
    const one = { minSize: 64, maxSize: 64, sizeMultiple: 16 }
    for (const [w, h] of [
      [1024, 1024],
      [768, 512],
      [64, 64],
    ]) {
      expect(nearestNativeSize(w, h, one)).toEqual({ width: 64, height: 64 })
    }
  })
})

describe('requestableSizes', () => {
  it('is the native range for a model that rejects, and the wide range for one that resizes', () => {
    const native = { minSize: 64, maxSize: 64, sizeMultiple: 16 }
    expect(requestableSizes({ ...native, outOfRange: 'reject' })).toEqual({ ...native, outOfRange: 'reject' })
    expect(requestableSizes({ ...native, outOfRange: 'resize' })).toBe(RESIZABLE_SIZES)
  })
})
