import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { torchRandn } from './torch-randn.js'

/** Written by tools/fixtures/make-torch-randn.py from real torch (Debian python3-torch 1.13, AVX2 kernels). */
interface ReferenceCase {
  seed: string
  shape: number[]
  sha256: string
  sample: Record<string, number>
  values?: number[]
}

const fixture = JSON.parse(
  readFileSync(new URL('../../../test/fixtures/torch-randn-reference.json', import.meta.url), 'utf8'),
) as { torch: string; cases: ReferenceCase[] }

function sha256OfFloat32(values: Float32Array): string {
  return createHash('sha256')
    .update(new Uint8Array(values.buffer, values.byteOffset, values.byteLength))
    .digest('hex')
}

describe(`torchRandn against torch ${fixture.torch}`, () => {
  it('covers every size class: the double path, the block path, the tail rule and a Chroma 1024² latent', () => {
    const sizes = fixture.cases.map((c) => c.shape.reduce((a, b) => a * b, 1))
    expect(Math.min(...sizes)).toBeLessThan(16)
    expect(sizes.some((n) => n >= 16 && n % 16 !== 0)).toBe(true)
    expect(Math.max(...sizes)).toBe(16 * 128 * 128)
  })

  for (const c of fixture.cases) {
    it(`seed ${c.seed}, shape [${c.shape.join(',')}] is bit-identical`, () => {
      const out = torchRandn(BigInt(c.seed), c.shape)
      for (const [index, value] of Object.entries(c.sample))
        expect(out[Number(index)]).toBe(Math.fround(value))
      if (c.values) expect(Array.from(out)).toEqual(c.values.map(Math.fround))
      expect(sha256OfFloat32(out)).toBe(c.sha256)
    })
  }
})
