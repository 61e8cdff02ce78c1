import { describe, expect, it } from 'vitest'
import { type BatchedModel, cfgCombine, guidedDenoiser } from './guidance.js'

/** A fake network: the cond half predicts 2x, the uncond half x/2; records each call's batch size. */
function fakeModel(): { model: BatchedModel; batches: number[] } {
  const batches: number[] = []
  const model: BatchedModel = async (xBatch, _sigma, batch) => {
    batches.push(batch)
    const n = xBatch.length / batch
    return xBatch.map((v, i) => (i < n ? 2 * v : v / 2))
  }
  return { model, batches }
}

describe('cfgCombine', () => {
  it('is D_u + s(D_c − D_u)', () => {
    const out = cfgCombine(Float32Array.of(3, 1), Float32Array.of(1, 1), 7.5)
    expect(Array.from(out)).toEqual([16, 1])
  })

  it('gives the conditional estimate at s = 1 and the unconditional at s = 0', () => {
    const cond = Float32Array.of(0.25, -2)
    const uncond = Float32Array.of(4, 8)
    expect(Array.from(cfgCombine(cond, uncond, 1))).toEqual([0.25, -2])
    expect(Array.from(cfgCombine(cond, uncond, 0))).toEqual([4, 8])
  })

  it('rejects halves of different sizes', () => {
    expect(() => cfgCombine(Float32Array.of(1), Float32Array.of(1, 2), 2)).toThrow(RangeError)
  })
})

describe('guidedDenoiser', () => {
  it('evaluates cond and uncond in one batched call when cfg ≠ 1', async () => {
    const { model, batches } = fakeModel()
    const denoise = guidedDenoiser({ model, cfg: 4 })
    const out = await denoise(Float32Array.of(1, -2), 3)
    expect(batches).toEqual([2])
    // 0.5x + 4(2x − 0.5x) = 6.5x
    expect(Array.from(out)).toEqual([6.5, -13])
  })

  it('runs only the cond half (batch 1) when cfg is 1', async () => {
    const { model, batches } = fakeModel()
    const denoise = guidedDenoiser({ model, cfg: 1 })
    const out = await denoise(Float32Array.of(1, -2), 3)
    await denoise(Float32Array.of(1, -2), 2)
    expect(batches).toEqual([1, 1])
    expect(Array.from(out)).toEqual([2, -4])
  })

  it('treats cfg within 1e-9 of 1 as 1, like math.isclose', async () => {
    const { model, batches } = fakeModel()
    await guidedDenoiser({ model, cfg: 1 + 1e-12 })(Float32Array.of(1), 1)
    await guidedDenoiser({ model, cfg: 1.001 })(Float32Array.of(1), 1)
    expect(batches).toEqual([1, 2])
  })

  it('stacks [cond; uncond] copies of the state and passes σ through', async () => {
    const seen: { input: number[]; sigma: number }[] = []
    const model: BatchedModel = async (xBatch, sigma) => {
      seen.push({ input: Array.from(xBatch), sigma })
      return xBatch.slice()
    }
    await guidedDenoiser({ model, cfg: 3 })(Float32Array.of(5, 6), 0.7)
    expect(seen).toEqual([{ input: [5, 6, 5, 6], sigma: 0.7 }])
  })

  it('rejects a model answer of the wrong size and a non-finite cfg', async () => {
    const model: BatchedModel = async () => new Float32Array(3)
    await expect(guidedDenoiser({ model, cfg: 2 })(Float32Array.of(1, 2), 1)).rejects.toThrow(RangeError)
    expect(() => guidedDenoiser({ model, cfg: Number.NaN })).toThrow(RangeError)
  })
})
