import { afterEach, describe, expect, it } from 'vitest'
import { useJavaScriptVectors, VectorSpace } from './vector-ops.js'
import { webAssembly } from './wasm-binary.js'

/** Deterministic values over several magnitudes, with both signs. */
function values(n: number, seed: number): Float32Array {
  return Float32Array.from(
    { length: n },
    (_, i) => Math.sin(i * 12.9898 + seed * 78.233) * 10 ** ((i % 7) - 3),
  )
}

const COEFFICIENTS = [0.9, -1.7e-3, 3.25, -0.1, 1 / 3, 14.6146]

/** Runs `body` with a space of each kind: WebAssembly (where available) and JavaScript. */
function bothPaths<T>(n: number, capacity: number, body: (space: VectorSpace) => T): [T, T] {
  const previous = useJavaScriptVectors(false)
  try {
    const wasm = body(new VectorSpace(n, capacity))
    useJavaScriptVectors(true)
    return [wasm, body(new VectorSpace(n, capacity))]
  } finally {
    useJavaScriptVectors(previous)
  }
}

afterEach(() => {
  useJavaScriptVectors(false)
})

describe('VectorSpace', () => {
  for (const n of [1, 3, 4, 17, 1000]) {
    it(`combines 1–6 terms the same on both paths, bit for bit (n = ${n})`, () => {
      for (let terms = 1; terms <= 6; terms++) {
        const [wasm, js] = bothPaths(n, terms + 1, (space) => {
          const inside = Array.from({ length: terms }, (_, j) => space.copyOf(values(n, j)))
          // Mix space vectors and outside arrays, and write over the first input (aliasing).
          const inputs = inside.map((v, j) => (j % 2 === 0 ? v : values(n, j)))
          const out = terms > 1 ? inside[0] : space.vector()
          space.combine(out, COEFFICIENTS.slice(0, terms), inputs)
          return Array.from(out)
        })
        const columns = Array.from({ length: terms }, (_, j) => values(n, j))
        const expected = Array.from({ length: n }, (_, i) => {
          let sum = 0
          for (let j = 0; j < terms; j++) sum += COEFFICIENTS[j] * columns[j][i]
          return Math.fround(sum)
        })
        expect(wasm).toEqual(js)
        expect(js).toEqual(expected)
      }
    })
  }

  it('scale, combine2 and combine3 agree with combine', () => {
    const n = 13
    const [wasm, js] = bothPaths(n, 4, (space) => {
      const [x, y, z] = [0, 1, 2].map((j) => space.copyOf(values(n, j)))
      const out = space.vector()
      const results: number[][] = []
      results.push(Array.from(space.scale(out, 0.3, x)))
      results.push(Array.from(space.combine2(out, 0.3, x, -2, values(n, 1))))
      results.push(Array.from(space.combine3(out, 0.3, x, -2, y, 5, z)))
      results.push(Array.from(space.combine(out, [0.3, -2, 5], [x, y, z])))
      return results
    })
    expect(wasm).toEqual(js)
    expect(js[3]).toEqual(js[2])
  })

  it('runs the fused multistep update the same on both paths, bit for bit', () => {
    for (const n of [3, 8, 1001]) {
      for (let older = 0; older <= 3; older++) {
        const [wasm, js] = bothPaths(n, 2 + older, (space) => {
          const x = space.copyOf(values(n, 0))
          const d = space.vector()
          const history = Array.from({ length: older }, (_, j) => space.copyOf(values(n, 2 + j)))
          space.multistep(d, x, values(n, 1), 1 / 0.37, COEFFICIENTS.slice(0, older + 1), history)
          return [Array.from(d), Array.from(x)]
        })
        const [x0, denoised] = [values(n, 0), values(n, 1)]
        const columns = Array.from({ length: older }, (_, j) => values(n, 2 + j))
        const delta = Array.from(x0, (x, i) => (x - denoised[i]) * (1 / 0.37))
        const expectedX = Array.from(x0, (x, i) => {
          let sum = x + COEFFICIENTS[0] * delta[i]
          for (let j = 0; j < older; j++) sum += COEFFICIENTS[j + 1] * columns[j][i]
          return Math.fround(sum)
        })
        expect(wasm).toEqual(js)
        expect(js[0]).toEqual(delta.map(Math.fround))
        expect(js[1]).toEqual(expectedX)
      }
    }
  })

  it('computes the scaled error norm the same on both paths', () => {
    for (const n of [2, 8, 1001]) {
      const [wasm, js] = bothPaths(n, 3, (space) => {
        const [low, high, previous] = [0, 1, 2].map((j) => space.copyOf(values(n, j)))
        return space.errorNorm(low, high, previous, 0.0078, 0.05)
      })
      const columns = [0, 1, 2].map((j) => values(n, j))
      let sum = 0
      for (let i = 0; i < n; i++) {
        const [low, high, previous] = [columns[0][i], columns[1][i], columns[2][i]]
        const e = (low - high) / Math.max(0.0078, 0.05 * Math.max(Math.abs(low), Math.abs(previous)))
        sum += e * e
      }
      expect(wasm).toBe(js)
      expect(js).toBeCloseTo(Math.sqrt(sum / n), 12)
    }
  })

  it('keeps its vectors apart, returns standalone results and refuses foreign outputs', () => {
    const space = new VectorSpace(5, 2)
    const a = space.copyOf(Float32Array.of(1, 2, 3, 4, 5))
    const b = space.vector()
    // Where WebAssembly runs, the vectors are views of the run's memory.
    if (webAssembly()) expect(a.buffer.byteLength).toBeGreaterThan(20)
    expect(Array.from(b)).toEqual([0, 0, 0, 0, 0])
    space.combine2(b, 2, a, 1, Float32Array.of(1, 1, 1, 1, 1))
    expect(Array.from(a)).toEqual([1, 2, 3, 4, 5])
    expect(Array.from(b)).toEqual([3, 5, 7, 9, 11])
    const result = space.result(b)
    expect(result.byteOffset).toBe(0)
    expect(result.buffer.byteLength).toBe(20)
    expect(() => space.vector()).toThrow(RangeError)
    expect(() => space.scale(a, 1, new Float32Array(4))).toThrow(RangeError)
  })

  it('hands a finished run’s memory to the next run, cleared, and refuses use after the end', () => {
    const first = new VectorSpace(6, 2)
    const a = first.copyOf(Float32Array.of(1, 2, 3, 4, 5, 6))
    const result = first.result(a)
    expect(Array.from(result)).toEqual([1, 2, 3, 4, 5, 6])
    if (webAssembly()) {
      expect(() => first.scale(a, 2, a)).toThrow(RangeError)
      expect(() => first.vector()).toThrow(RangeError)
    }
    const second = new VectorSpace(6, 2)
    const b = second.vector()
    if (webAssembly()) expect(b.buffer).toBe(a.buffer)
    expect(Array.from(b)).toEqual([0, 0, 0, 0, 0, 0])
    // the first run's result is its own array, untouched by the second run
    second.combine2(b, 1, Float32Array.of(9, 9, 9, 9, 9, 9), 0, b)
    expect(Array.from(result)).toEqual([1, 2, 3, 4, 5, 6])
  })
})
