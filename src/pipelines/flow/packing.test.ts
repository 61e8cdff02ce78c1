import { describe, expect, it } from 'vitest'
import { imageIds, packLatent, unpackLatent } from './packing.js'

describe('flow latent packing', () => {
  const channels = 3
  const height = 4
  const width = 6
  const latent = Float32Array.from({ length: channels * height * width }, (_, i) => i)

  it('puts latent[c, 2r+dy, 2q+dx] at token r·(w/2)+q, feature c·4+dy·2+dx', () => {
    const packed = packLatent(latent, channels, height, width)
    const at = (c: number, y: number, x: number) => latent[(c * height + y) * width + x]
    const features = channels * 4
    // token (r=1, q=2), channel 2, dy=1, dx=0
    expect(packed[(1 * 3 + 2) * features + 2 * 4 + 1 * 2 + 0]).toBe(at(2, 3, 4))
    expect(packed[0 * features + 1]).toBe(at(0, 0, 1))
  })

  it('unpacks to the original latent', () => {
    expect(unpackLatent(packLatent(latent, channels, height, width), channels, height, width)).toEqual(latent)
  })

  it('numbers image ids (0, row, col) row by row', () => {
    expect(Array.from(imageIds(2, 3))).toEqual([0, 0, 0, 0, 0, 1, 0, 0, 2, 0, 1, 0, 0, 1, 1, 0, 1, 2])
  })
})
