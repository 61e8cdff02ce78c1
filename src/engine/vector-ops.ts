/**
 * The samplers' vector arithmetic: linear combinations out = Σ_j c_j·v_j of float32 arrays, computed per
 * element in float64 and stored as float32. One set of small kernels serves every sampler, so the runtime
 * optimizes a handful of loops once, and each sampler update reads as its formula.
 *
 * A {@link VectorSpace} owns a sampling run's buffers. Where WebAssembly SIMD is available they live in the
 * run's own WebAssembly memory and the kernels of `vector-wasm.ts` work on them, two float64 lanes at a time;
 * arrays from outside (the denoiser's estimate, fresh noise) are copied in for the duration of one call. The
 * JavaScript loops below give the same results bit for bit and run where WebAssembly does not.
 *
 * A finished run hands its memory back (see {@link VectorSpace.result}) and the next run of a similar size
 * reuses it: fresh pages cost more to map and zero than a sampler step spends on arithmetic.
 * @module
 */
import { MAX_OLDER, MAX_TERMS, vectorKernelBytes } from './vector-wasm.js'
import { webAssembly } from './wasm-binary.js'

type Combine = (out: number, end: number, ...coefficientsAndPointers: number[]) => void
type Multistep = (
  d: number,
  x: number,
  denoised: number,
  end: number,
  r: number,
  c0: number,
  ...coefficientsAndPointers: number[]
) => void
type ErrorSquares = (
  low: number,
  high: number,
  previous: number,
  end: number,
  atol: number,
  rtol: number,
  sums: number,
) => void

interface Kernels {
  readonly combine: readonly Combine[]
  /** Indexed by the number of older derivatives. */
  readonly multistep: readonly Multistep[]
  readonly errorSquares: ErrorSquares
  readonly buffer: ArrayBuffer
}

/** Memories of finished runs, ready for the next ones; at most {@link IDLE_LIMIT}, {@link IDLE_BYTES} each. */
const idle: Kernels[] = []
const IDLE_LIMIT = 2
const IDLE_BYTES = 256 * 2 ** 20

/** The smallest idle memory of at least `bytes`, or a new one (null where WebAssembly is unavailable). */
function acquire(bytes: number): { kernels: Kernels | null; recycled: boolean } {
  let best = -1
  for (let i = 0; i < idle.length; i++) {
    const size = idle[i].buffer.byteLength
    if (size >= bytes && (best < 0 || size < idle[best].buffer.byteLength)) best = i
  }
  if (best >= 0 && !forceJavaScript) return { kernels: idle.splice(best, 1)[0], recycled: true }
  return { kernels: instantiate(bytes), recycled: false }
}

function release(kernels: Kernels): void {
  if (kernels.buffer.byteLength > IDLE_BYTES) return
  if (idle.length >= IDLE_LIMIT) idle.shift()
  idle.push(kernels)
}

let compiled: object | null | undefined
let forceJavaScript = false

/** Makes new spaces use the JavaScript loops (tests compare both paths); returns the previous setting. */
export function useJavaScriptVectors(on: boolean): boolean {
  const previous = forceJavaScript
  forceJavaScript = on
  return previous
}

/** The kernels on a fresh memory of `bytes`, or null where WebAssembly (SIMD) is unavailable. */
function instantiate(bytes: number): Kernels | null {
  const api = webAssembly()
  if (!api || forceJavaScript || compiled === null) return null
  try {
    compiled ??= new api.Module(vectorKernelBytes())
    const memory = new api.Memory({ initial: Math.ceil(bytes / 65536) })
    const { exports } = new api.Instance(compiled, { engine: { memory } })
    return {
      combine: Array.from({ length: MAX_TERMS }, (_, j) => exports[`combine${j + 1}`] as Combine),
      multistep: Array.from({ length: MAX_OLDER + 1 }, (_, m) => exports[`multistep${m}`] as Multistep),
      errorSquares: exports.errorSquares as ErrorSquares,
      buffer: memory.buffer,
    }
  } catch {
    // No SIMD (e.g. `node --jitless`: never retried) or no room for another memory: the loops below do the work.
    compiled ??= null
    return null
  }
}

/** Staging slots for outside arrays: one per term of the widest combination. */
const STAGING = MAX_TERMS

/**
 * Buffers and kernels for one sampling run over arrays of `length` elements. `capacity` is how many vectors
 * the run allocates with {@link vector} / {@link copyOf}; the buffers are fixed, so views never move.
 */
export class VectorSpace {
  readonly length: number
  readonly #kernels: Kernels | null
  /** The memory held another run's vectors: new vectors must be cleared. */
  readonly #recycled: boolean
  #released = false
  /** Bytes per buffer: the length rounded up to whole 16-byte vectors. */
  readonly #stride: number
  readonly #capacity: number
  #allocated = 0
  readonly #sums: Float64Array | null

  constructor(length: number, capacity: number) {
    this.length = length
    this.#capacity = capacity
    this.#stride = Math.max(16, Math.ceil(length / 4) * 16)
    // The last 32 bytes hold the error norm's partial sums.
    const { kernels, recycled } = acquire((capacity + STAGING) * this.#stride + 32)
    this.#kernels = kernels
    this.#recycled = recycled
    this.#sums = this.#kernels
      ? new Float64Array(this.#kernels.buffer, (capacity + STAGING) * this.#stride, 4)
      : null
  }

  /** A new zeroed vector (in the WebAssembly memory when there is one). */
  vector(): Float32Array {
    const vector = this.#allocate()
    if (this.#recycled) vector.fill(0)
    return vector
  }

  /** A new vector holding a copy of `source`. */
  copyOf(source: Float32Array): Float32Array {
    const copy = this.#allocate()
    copy.set(source)
    return copy
  }

  /**
   * The run's result as a standalone array, not a view of the run's memory. Ends the run: the memory goes to
   * the next run, so the space and every vector it gave out (also those seen by the denoiser and by progress
   * callbacks) must not be used afterwards.
   */
  result(x: Float32Array): Float32Array {
    const kernels = this.#kernels
    if (!kernels) return x
    const copy = x.slice()
    if (!this.#released) {
      this.#released = true
      release(kernels)
    }
    return copy
  }

  #allocate(): Float32Array {
    if (this.#allocated >= this.#capacity) {
      throw new RangeError(`VectorSpace: all ${this.#capacity} vectors are in use`)
    }
    const index = this.#allocated++
    if (!this.#kernels) return new Float32Array(this.length)
    if (this.#released) throw new RangeError('VectorSpace: the run has ended')
    return new Float32Array(this.#kernels.buffer, index * this.#stride, this.length)
  }

  /** out = a·x */
  scale(out: Float32Array, a: number, x: Float32Array): Float32Array {
    const k = this.#kernels
    if (!k) return combine1(out, a, this.#same(x, out))
    k.combine[0](this.#out(out), this.#stride, a, this.#in(x, 0))
    return out
  }

  /** out = a·x + b·y */
  combine2(out: Float32Array, a: number, x: Float32Array, b: number, y: Float32Array): Float32Array {
    const k = this.#kernels
    if (!k) return combine2(out, a, this.#same(x, out), b, this.#same(y, out))
    k.combine[1](this.#out(out), this.#stride, a, this.#in(x, 0), b, this.#in(y, 1))
    return out
  }

  /** out = a·x + b·y + c·z */
  combine3(
    out: Float32Array,
    a: number,
    x: Float32Array,
    b: number,
    y: Float32Array,
    c: number,
    z: Float32Array,
  ): Float32Array {
    const k = this.#kernels
    if (!k) return combine3(out, a, this.#same(x, out), b, this.#same(y, out), c, this.#same(z, out))
    k.combine[2](this.#out(out), this.#stride, a, this.#in(x, 0), b, this.#in(y, 1), c, this.#in(z, 2))
    return out
  }

  /** out = Σ_j weights[j]·terms[j] for 1 to 6 terms, in one pass. */
  combine(out: Float32Array, weights: readonly number[], terms: readonly Float32Array[]): Float32Array {
    const count = terms.length
    if (weights.length !== count || count < 1 || count > MAX_TERMS) {
      throw new RangeError(`VectorSpace.combine: ${weights.length} weights for ${count} terms`)
    }
    const k = this.#kernels
    if (!k) {
      for (const term of terms) this.#same(term, out)
      return combineTerms(out, weights, terms)
    }
    const args: number[] = [this.#out(out), this.#stride]
    for (let j = 0; j < count; j++) args.push(weights[j], this.#in(terms[j], j))
    k.combine[count - 1](...(args as [number, number]))
    return out
  }

  /**
   * A multistep update with its new derivative, in one pass: d = (x − D)·r, then x ← x + Σ_j w_j·h_j with
   * h_0 = d and h_j = older[j − 1] (0 to 3 older derivatives). r is 1/σ; the update uses d before its
   * rounding to float32.
   */
  multistep(
    d: Float32Array,
    x: Float32Array,
    denoised: Float32Array,
    r: number,
    weights: readonly number[],
    older: readonly Float32Array[],
  ): void {
    const m = older.length
    if (weights.length !== m + 1 || m > MAX_OLDER) {
      throw new RangeError(`VectorSpace.multistep: ${weights.length} weights for ${m} older derivatives`)
    }
    const k = this.#kernels
    if (!k) {
      for (const term of [x, denoised, ...older]) this.#same(term, d)
      multistep(d, x, denoised, r, weights, older)
      return
    }
    const args = [this.#out(d), this.#out(x), this.#in(denoised, 0), this.#stride, r, weights[0]]
    for (let j = 0; j < m; j++) args.push(weights[j + 1], this.#in(older[j], j + 1))
    k.multistep[m](...(args as [number, number, number, number, number, number]))
  }

  /**
   * √(Σ e²/n) with e = (low − high)/max(atol, rtol·max(|low|, |previous|)): the mixed relative/absolute error
   * norm of an embedded solver pair. Sums run by element index mod 4, as in the WebAssembly kernel.
   */
  errorNorm(
    low: Float32Array,
    high: Float32Array,
    previous: Float32Array,
    atol: number,
    rtol: number,
  ): number {
    const n = this.length
    const sums = [0, 0, 0, 0]
    const whole = n - (n % 4)
    const k = this.#kernels
    let from = 0
    if (k && this.#sums && whole > 0) {
      const [l, h, p] = [this.#in(low, 0), this.#in(high, 1), this.#in(previous, 2)]
      k.errorSquares(l, h, p, whole * 4, atol, rtol, this.#sums.byteOffset)
      for (let r = 0; r < 4; r++) sums[r] = this.#sums[r]
      from = whole
    }
    for (let i = from; i < n; i++) {
      const delta = Math.max(atol, rtol * Math.max(Math.abs(low[i]), Math.abs(previous[i])))
      const e = (low[i] - high[i]) / delta
      sums[i % 4] += e * e
    }
    return Math.sqrt(sums[0] + sums[1] + (sums[2] + sums[3])) / Math.sqrt(n)
  }

  /** The JavaScript path's check: every array has the space's length. */
  #same(input: Float32Array, out: Float32Array): Float32Array {
    if (input.length !== this.length || out.length !== this.length) {
      throw new RangeError(`VectorSpace: expected ${this.length} elements, got ${input.length}`)
    }
    return input
  }

  /** Byte offset of an output vector, which must belong to this space. */
  #out(out: Float32Array): number {
    if (this.#released) throw new RangeError('VectorSpace: the run has ended')
    if (out.buffer !== this.#kernels!.buffer || out.length !== this.length) {
      throw new RangeError('VectorSpace: the output must be a vector of this space')
    }
    return out.byteOffset
  }

  /** Byte offset of an input: its own when it lives in this space, else a copy in staging slot `slot`. */
  #in(input: Float32Array, slot: number): number {
    if (input.length !== this.length) {
      throw new RangeError(`VectorSpace: expected ${this.length} elements, got ${input.length}`)
    }
    if (this.#released) throw new RangeError('VectorSpace: the run has ended')
    const kernels = this.#kernels!
    if (input.buffer === kernels.buffer) return input.byteOffset
    const offset = (this.#capacity + slot) * this.#stride
    new Float32Array(kernels.buffer, offset, this.length).set(input)
    return offset
  }
}

// ----- the JavaScript loops: same operations in the same order as the WebAssembly kernels -----

function combine1(out: Float32Array, a: number, x: Float32Array): Float32Array {
  for (let i = 0; i < out.length; i++) out[i] = a * x[i]
  return out
}

function combine2(out: Float32Array, a: number, x: Float32Array, b: number, y: Float32Array): Float32Array {
  for (let i = 0; i < out.length; i++) out[i] = a * x[i] + b * y[i]
  return out
}

function combine3(
  out: Float32Array,
  a: number,
  x: Float32Array,
  b: number,
  y: Float32Array,
  c: number,
  z: Float32Array,
): Float32Array {
  for (let i = 0; i < out.length; i++) out[i] = a * x[i] + b * y[i] + c * z[i]
  return out
}

function multistep(
  d: Float32Array,
  x: Float32Array,
  denoised: Float32Array,
  r: number,
  w: readonly number[],
  older: readonly Float32Array[],
): void {
  const [h1, h2, h3] = older
  const [w0, w1, w2, w3] = w
  const n = d.length
  switch (older.length) {
    case 0:
      for (let i = 0; i < n; i++) {
        const delta = (x[i] - denoised[i]) * r
        d[i] = delta
        x[i] = x[i] + w0 * delta
      }
      break
    case 1:
      for (let i = 0; i < n; i++) {
        const delta = (x[i] - denoised[i]) * r
        d[i] = delta
        x[i] = x[i] + w0 * delta + w1 * h1[i]
      }
      break
    case 2:
      for (let i = 0; i < n; i++) {
        const delta = (x[i] - denoised[i]) * r
        d[i] = delta
        x[i] = x[i] + w0 * delta + w1 * h1[i] + w2 * h2[i]
      }
      break
    default:
      for (let i = 0; i < n; i++) {
        const delta = (x[i] - denoised[i]) * r
        d[i] = delta
        x[i] = x[i] + w0 * delta + w1 * h1[i] + w2 * h2[i] + w3 * h3[i]
      }
  }
}

function combineTerms(out: Float32Array, w: readonly number[], t: readonly Float32Array[]): Float32Array {
  const n = out.length
  switch (t.length) {
    case 1:
      return combine1(out, w[0], t[0])
    case 2:
      return combine2(out, w[0], t[0], w[1], t[1])
    case 3:
      return combine3(out, w[0], t[0], w[1], t[1], w[2], t[2])
    case 4: {
      const [t0, t1, t2, t3] = t
      const [w0, w1, w2, w3] = w
      for (let i = 0; i < n; i++) out[i] = w0 * t0[i] + w1 * t1[i] + w2 * t2[i] + w3 * t3[i]
      return out
    }
    case 5: {
      const [t0, t1, t2, t3, t4] = t
      const [w0, w1, w2, w3, w4] = w
      for (let i = 0; i < n; i++) out[i] = w0 * t0[i] + w1 * t1[i] + w2 * t2[i] + w3 * t3[i] + w4 * t4[i]
      return out
    }
    default: {
      const [t0, t1, t2, t3, t4, t5] = t
      const [w0, w1, w2, w3, w4, w5] = w
      for (let i = 0; i < n; i++) {
        out[i] = w0 * t0[i] + w1 * t1[i] + w2 * t2[i] + w3 * t3[i] + w4 * t4[i] + w5 * t5[i]
      }
      return out
    }
  }
}
