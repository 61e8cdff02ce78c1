/**
 * The bulk kernels behind `torchRandn` (JavaScript `box-muller.ts`, WebAssembly `wasm-kernel.ts`) against the
 * scalar reference (`Mt19937.nextUint32`, `log32`, `sincos32`). The Box–Muller inputs are 24-bit integers, so
 * the sweeps can cover every input: run `PIGMENT_RNG_EXHAUSTIVE=1 npx vitest run src/engine/rng/kernels.test.ts`
 * (a few minutes) after touching either kernel; by default a 1-in-251 sample runs.
 */
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { createJsKernel, type NormalKernel, radius24 } from './box-muller.js'
import { log32, type SinCos, sincos32 } from './float32-math.js'
import { Mt19937 } from './mt19937.js'
import { normalFill } from './torch-randn.js'
import { createWasmKernel, wasmKernelBytes } from './wasm-kernel.js'

const f32 = Math.fround
const TWO_PI_F32 = f32(2 * Math.PI)
/** Every k in 0 … 2²⁴ − 1 with PIGMENT_RNG_EXHAUSTIVE=1 (a minute or so), else every 251st and the ends. */
const EXHAUSTIVE = process.env.PIGMENT_RNG_EXHAUSTIVE === '1'
const STRIDE = EXHAUSTIVE ? 1 : 251
/** The draw whose radius is exactly 1, so that ρ·cos θ and ρ·sin θ are cos θ and sin θ themselves. */
const K_RADIUS_ONE = 6601320

const wasm = createWasmKernel()
const kernels: [string, NormalKernel][] = [['javascript', createJsKernel()]]
if (wasm) kernels.push(['webassembly', wasm])

/** ρ as `normal_fill_16_AVX2` computes it from the reference `log32`. */
function referenceRadius(k: number): number {
  return f32(Math.sqrt(-2 * log32(f32(1 - k * 2 ** -24))))
}

const scratch = new Float32Array(1)
const scratchBits = new Uint32Array(scratch.buffer)
/** The float32 bit pattern of a value (rounding it to float32 first): tells −0 from +0. */
function bits(value: number): number {
  scratch[0] = value
  return scratchBits[0]
}

/**
 * Runs the kernel on draws (k₁, k₂) for k = first, first + stride, … and compares both outputs of every pair
 * with the reference: k₁ = radiusDraw(k), k₂ = angleDraw(k). Returns the number of pairs checked.
 */
function sweep(
  kernel: NormalKernel,
  radiusDraw: (k: number) => number,
  angleDraw: (k: number) => number,
): number {
  const sinCos: SinCos = { sin: 0, cos: 0 }
  const inputs: number[] = []
  for (let k = 0; k < 2 ** 24; k += STRIDE) inputs.push(k)
  if (inputs[inputs.length - 1] !== 2 ** 24 - 1) inputs.push(2 ** 24 - 1)
  const pairsPerRun = kernel.capacity / 2
  const k1s = new Int32Array(pairsPerRun)
  const k2s = new Int32Array(pairsPerRun)
  for (let first = 0; first < inputs.length; first += pairsPerRun) {
    const pairs = Math.min(pairsPerRun, inputs.length - first)
    const values = Math.ceil(pairs / 8) * 16
    kernel.draws.fill(0, 0, values)
    for (let p = 0; p < pairs; p++) {
      const index = (p >> 3) * 16 + (p & 7)
      k1s[p] = radiusDraw(inputs[first + p])
      k2s[p] = angleDraw(inputs[first + p])
      kernel.draws[index] = k1s[p]
      kernel.draws[index + 8] = k2s[p]
    }
    kernel.run(values)
    for (let p = 0; p < pairs; p++) {
      const index = (p >> 3) * 16 + (p & 7)
      const radius = referenceRadius(k1s[p])
      sincos32(f32(TWO_PI_F32 * (k2s[p] * 2 ** -24)), sinCos)
      const cos = kernel.normals[index]
      const sin = kernel.normals[index + 8]
      if (bits(cos) !== bits(radius * sinCos.cos) || bits(sin) !== bits(radius * sinCos.sin)) {
        throw new Error(
          `k₁ = ${k1s[p]}, k₂ = ${k2s[p]}: got (${cos}, ${sin}), expected (${f32(radius * sinCos.cos)}, ${f32(radius * sinCos.sin)})`,
        )
      }
    }
  }
  return inputs.length
}

describe('the WebAssembly module', () => {
  it('compiles and instantiates on this runtime (Node ≥ 20 has WebAssembly SIMD)', () => {
    expect(Array.from(wasmKernelBytes().subarray(0, 4))).toEqual([0x00, 0x61, 0x73, 0x6d])
    expect(wasm).not.toBeNull()
  })
})

describe.each(kernels)('the %s kernel', (_, kernel) => {
  it('has ρ = 1 exactly for the draw used to isolate cos θ and sin θ', () => {
    expect(referenceRadius(K_RADIUS_ONE)).toBe(1)
    expect(radius24(K_RADIUS_ONE)).toBe(1)
  })

  it(`computes ρ bit for bit as log32 does, for ${EXHAUSTIVE ? 'every' : 'a sample of'} k (θ = 0)`, () => {
    // k₂ = 0: θ = 0, cos θ = 1 and sin θ = 0 exactly, so the outputs are ρ and 0
    expect(
      sweep(
        kernel,
        (k) => k,
        () => 0,
      ),
    ).toBeGreaterThan(EXHAUSTIVE ? 2 ** 24 - 1 : 60000)
  })

  it(`computes cos θ and sin θ bit for bit as sincos32 does, for ${EXHAUSTIVE ? 'every' : 'a sample of'} k (ρ = 1)`, () => {
    expect(
      sweep(
        kernel,
        () => K_RADIUS_ONE,
        (k) => k,
      ),
    ).toBeGreaterThan(EXHAUSTIVE ? 2 ** 24 - 1 : 60000)
  })

  it('matches the reference on pairs where both draws vary', () => {
    expect(
      sweep(
        kernel,
        (k) => k,
        (k) => (k * 40503 + 12345) % 2 ** 24,
      ),
    ).toBeGreaterThan(1000)
  })

  it('draws the same MT19937 stream as Mt19937.nextUint32, across twists and odd counts', () => {
    const engine = new Mt19937(2024)
    const reference = new Mt19937(2024)
    for (const count of [1, 3, 4, 620, 624, 625, 1247, kernel.capacity, 5, 16, 999]) {
      kernel.draw(engine, count)
      for (let i = 0; i < count; i++) {
        const expected = reference.nextUint32() & 0xffffff
        if (kernel.draws[i] !== expected) throw new Error(`count ${count}, draw ${i}`)
      }
    }
    // the engine itself continues where the kernel stopped
    expect(engine.nextUint32()).toBe(reference.nextUint32())
  })
})

describe('normalFill', () => {
  const fixture = JSON.parse(
    readFileSync(new URL('../../../test/fixtures/torch-randn-reference.json', import.meta.url), 'utf8'),
  ) as { cases: { seed: string; shape: number[]; sha256: string }[] }

  it.each(
    kernels,
  )('reproduces every torch reference case of 16 values or more with the %s kernel', (_, kernel) => {
    let checked = 0
    for (const c of fixture.cases) {
      const n = c.shape.reduce((a, b) => a * b, 1)
      if (n < 16) continue
      const out = normalFill(new Mt19937(BigInt(c.seed)), n, kernel)
      const digest = createHash('sha256').update(new Uint8Array(out.buffer)).digest('hex')
      expect(digest, `seed ${c.seed}, shape [${c.shape}]`).toBe(c.sha256)
      checked++
    }
    expect(checked).toBeGreaterThan(10)
  })

  it('gives the same values with both kernels for sizes around the chunk and block edges', () => {
    if (!wasm) return
    const js = createJsKernel(64)
    for (const n of [16, 17, 31, 32, 33, 63, 64, 65, 1000, 16383, 16384, 16385, 16384 * 2 + 7, 100_003]) {
      const a = normalFill(new Mt19937(n), n, js)
      const b = normalFill(new Mt19937(n), n, wasm)
      expect(Buffer.from(b.buffer).equals(Buffer.from(a.buffer)), `n = ${n}`).toBe(true)
    }
  })
})

describe('Mt19937 state transfer', () => {
  it('saves and restores the position in the stream', () => {
    const engine = new Mt19937(7)
    for (let i = 0; i < 700; i++) engine.nextUint32()
    const words = new Uint32Array(624)
    const index = engine.saveState(words)
    const next = [engine.nextUint32(), engine.nextUint32()]
    const copy = new Mt19937(0)
    copy.restoreState(words, index)
    expect([copy.nextUint32(), copy.nextUint32()]).toEqual(next)
    expect(() => copy.restoreState(new Uint32Array(10), 0)).toThrow(RangeError)
    expect(() => copy.restoreState(words, 625)).toThrow(RangeError)
  })
})
