/**
 * The vector kernels of `vector-ops.ts` as a WebAssembly SIMD module: out = Σ_j c_j·v_j over float32 arrays
 * with 1 to {@link MAX_TERMS} terms, the multistep update with its new derivative, and the scaled error norm
 * of `dpm_adaptive`.
 *
 * Each float32 lane is widened to float64, multiplied and summed in the same order as the JavaScript loops
 * (`c0·v0 + c1·v1 + …`, left to right, no fused multiply-add), then rounded once to float32. WebAssembly
 * float64 arithmetic is IEEE double with round-to-nearest-even, like JavaScript numbers, so the results are bit
 * for bit those of the JavaScript fallback: two lanes per instruction instead of one, without bounds checks.
 *
 * The module imports its memory (`engine.memory`), so every sampling run owns its buffers. Arrays are addressed
 * by byte offset, 16-byte aligned, and processed in whole vectors of four floats: callers pad their buffers.
 * @module
 */
import { type Bytes, MODULE_HEADER, name, section, sleb, uleb, vector } from './wasm-binary.js'

/** Most terms a single combination takes. */
export const MAX_TERMS = 6
/** Most older derivatives a multistep update takes besides the new one. */
export const MAX_OLDER = 3

const I32 = 0x7f
const F64 = 0x7c
const V128 = 0x7b

const get = (local: number): Bytes => [0x20, ...uleb(local)]
const set = (local: number): Bytes => [0x21, ...uleb(local)]
const tee = (local: number): Bytes => [0x22, ...uleb(local)]
const i32Const = (value: number): Bytes => [0x41, ...sleb(value)]
const i32Add: Bytes = [0x6a]
const i32LtU: Bytes = [0x49]
const simd = (opcode: number, ...immediates: number[]): Bytes => [0xfd, ...uleb(opcode), ...immediates]
/** memarg: alignment 2⁴, offset 0. */
const v128Load = simd(0x00, 4, 0)
const v128Store = simd(0x0b, 4, 0)
const f64x2Splat = simd(0x14)
const f64x2Add = simd(0xf0)
const f64x2Sub = simd(0xf1)
const f64x2Mul = simd(0xf2)
const f64x2Div = simd(0xf3)
const f64x2Abs = simd(0xec)
const f64x2Max = simd(0xf5)
const promoteLow = simd(0x5f)
const demoteZero = simd(0x5e)
/** Lanes 2, 3 of a 32×4 vector moved down to lanes 0, 1. */
const highHalf = simd(0x0d, 8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15)
/** Lanes 0, 1 of the first and lanes 0, 1 of the second 32×4 vector. */
const joinHalves = simd(0x0d, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23)

interface Func {
  readonly params: number[]
  readonly results: number[]
  readonly locals: [count: number, type: number][]
  readonly body: Bytes
}

/** `repeat: body; i += 16; while i < end` (the array is at least one vector long). */
const loopOverVectors = (i: number, end: number, body: Bytes): Bytes => [
  0x03,
  0x40,
  ...body,
  ...get(i),
  ...i32Const(16),
  ...i32Add,
  ...tee(i),
  ...get(end),
  ...i32LtU,
  0x0d,
  0,
  0x0b,
]

/**
 * combine<k>(out, end, c0, v0, …, c_{k−1}, v_{k−1}): out[i] = c0·v0[i] + … + c_{k−1}·v_{k−1}[i] for byte
 * offsets below `end`. Outputs may alias inputs: each vector is read before it is written.
 */
function combineFunction(terms: number): Func {
  const OUT = 0
  const END = 1
  const coefficient = (j: number) => 2 + 2 * j
  const pointer = (j: number) => 3 + 2 * j
  const I = 2 + 2 * terms
  const splat = (j: number) => I + 1 + j
  const loaded = (j: number) => I + 1 + terms + j
  const half = (widen: (j: number) => Bytes): Bytes => {
    const out: Bytes = []
    for (let j = 0; j < terms; j++) {
      out.push(...get(splat(j)), ...widen(j), ...f64x2Mul)
      if (j > 0) out.push(...f64x2Add)
    }
    return [...out, ...demoteZero]
  }
  const body: Bytes = []
  for (let j = 0; j < terms; j++) body.push(...get(coefficient(j)), ...f64x2Splat, ...set(splat(j)))
  const step: Bytes = []
  for (let j = 0; j < terms; j++)
    step.push(...get(pointer(j)), ...get(I), ...i32Add, ...v128Load, ...set(loaded(j)))
  step.push(
    ...get(OUT),
    ...get(I),
    ...i32Add,
    ...half((j) => [...get(loaded(j)), ...promoteLow]),
    ...half((j) => [...get(loaded(j)), ...get(loaded(j)), ...highHalf, ...promoteLow]),
    ...joinHalves,
    ...v128Store,
  )
  body.push(...loopOverVectors(I, END, step))
  const params = [I32, I32]
  for (let j = 0; j < terms; j++) params.push(F64, I32)
  return {
    params,
    results: [],
    locals: [
      [1, I32],
      [2 * terms, V128],
    ],
    body,
  }
}

/**
 * multistep<m>(d, x, denoised, end, r, c0, c1, h1, …, c_m, h_m): per element δ = (x − D)·r, d = δ and
 * x = x + c0·δ + c1·h1 + … + c_m·h_m, with δ kept in float64 for the update.
 */
function multistepFunction(older: number): Func {
  const [D_OUT, X, DENOISED, END, R, C0] = [0, 1, 2, 3, 4, 5]
  const coefficient = (j: number) => 6 + 2 * j
  const pointer = (j: number) => 7 + 2 * j
  const I = 6 + 2 * older
  const R_SPLAT = I + 1
  const C0_SPLAT = I + 2
  const splat = (j: number) => I + 3 + j
  const LOADED_X = I + 3 + older
  const LOADED_D = LOADED_X + 1
  const loaded = (j: number) => LOADED_X + 2 + j
  const DELTA_LOW = LOADED_X + 2 + older
  const DELTA_HIGH = DELTA_LOW + 1
  const low = (local: number): Bytes => [...get(local), ...promoteLow]
  const high = (local: number): Bytes => [...get(local), ...get(local), ...highHalf, ...promoteLow]
  const delta = (widen: (local: number) => Bytes, into: number): Bytes => [
    ...widen(LOADED_X),
    ...widen(LOADED_D),
    ...f64x2Sub,
    ...get(R_SPLAT),
    ...f64x2Mul,
    ...set(into),
  ]
  const update = (widen: (local: number) => Bytes, deltaLocal: number): Bytes => {
    const out: Bytes = [...widen(LOADED_X), ...get(C0_SPLAT), ...get(deltaLocal), ...f64x2Mul, ...f64x2Add]
    for (let j = 0; j < older; j++) out.push(...get(splat(j)), ...widen(loaded(j)), ...f64x2Mul, ...f64x2Add)
    return [...out, ...demoteZero]
  }
  const at = (pointerLocal: number): Bytes => [...get(pointerLocal), ...get(I), ...i32Add]
  const body: Bytes = [...get(R), ...f64x2Splat, ...set(R_SPLAT), ...get(C0), ...f64x2Splat, ...set(C0_SPLAT)]
  for (let j = 0; j < older; j++) body.push(...get(coefficient(j)), ...f64x2Splat, ...set(splat(j)))
  const step: Bytes = [
    ...at(X),
    ...v128Load,
    ...set(LOADED_X),
    ...at(DENOISED),
    ...v128Load,
    ...set(LOADED_D),
  ]
  for (let j = 0; j < older; j++) step.push(...at(pointer(j)), ...v128Load, ...set(loaded(j)))
  step.push(
    ...delta(low, DELTA_LOW),
    ...delta(high, DELTA_HIGH),
    ...at(D_OUT),
    ...get(DELTA_LOW),
    ...demoteZero,
    ...get(DELTA_HIGH),
    ...demoteZero,
    ...joinHalves,
    ...v128Store,
    ...at(X),
    ...update(low, DELTA_LOW),
    ...update(high, DELTA_HIGH),
    ...joinHalves,
    ...v128Store,
  )
  body.push(...loopOverVectors(I, END, step))
  const params = [I32, I32, I32, I32, F64, F64]
  for (let j = 0; j < older; j++) params.push(F64, I32)
  return {
    params,
    results: [],
    locals: [
      [1, I32],
      [2 + older + 2 + older + 2, V128],
    ],
    body,
  }
}

/**
 * errorSquares(low, high, previous, end, atol, rtol, sums): e = (low − high)/max(atol, rtol·max(|low|,
 * |previous|)) per element; stores Σ e² by element index mod 4 as four float64 at `sums`.
 */
function errorSquaresFunction(): Func {
  const [LOW, HIGH, PREVIOUS, END, ATOL, RTOL, SUMS] = [0, 1, 2, 3, 4, 5, 6]
  const I = 7
  const [A, R, L, H, P, SUM_LOW, SUM_HIGH, E] = [8, 9, 10, 11, 12, 13, 14, 15]
  const low = (local: number): Bytes => [...get(local), ...promoteLow]
  const high = (local: number): Bytes => [...get(local), ...get(local), ...highHalf, ...promoteLow]
  const accumulate = (widen: (local: number) => Bytes, sum: number): Bytes => [
    ...get(sum),
    ...widen(L),
    ...widen(H),
    ...f64x2Sub,
    ...get(A),
    ...get(R),
    ...widen(L),
    ...f64x2Abs,
    ...widen(P),
    ...f64x2Abs,
    ...f64x2Max,
    ...f64x2Mul,
    ...f64x2Max,
    ...f64x2Div,
    ...tee(E),
    ...get(E),
    ...f64x2Mul,
    ...f64x2Add,
    ...set(sum),
  ]
  const load = (pointer: number, local: number): Bytes => [
    ...get(pointer),
    ...get(I),
    ...i32Add,
    ...v128Load,
    ...set(local),
  ]
  const body: Bytes = [
    ...get(ATOL),
    ...f64x2Splat,
    ...set(A),
    ...get(RTOL),
    ...f64x2Splat,
    ...set(R),
    ...loopOverVectors(I, END, [
      ...load(LOW, L),
      ...load(HIGH, H),
      ...load(PREVIOUS, P),
      ...accumulate(low, SUM_LOW),
      ...accumulate(high, SUM_HIGH),
    ]),
    ...get(SUMS),
    ...get(SUM_LOW),
    ...v128Store,
    ...get(SUMS),
    ...i32Const(16),
    ...i32Add,
    ...get(SUM_HIGH),
    ...v128Store,
  ]
  return {
    params: [I32, I32, I32, I32, F64, F64, I32],
    results: [],
    locals: [
      [1, I32],
      [8, V128],
    ],
    body,
  }
}

/** The module's functions by export name, in function order. */
function kernels(): [string, Func][] {
  return [
    ...Array.from({ length: MAX_TERMS }, (_, j): [string, Func] => [
      `combine${j + 1}`,
      combineFunction(j + 1),
    ]),
    ...Array.from({ length: MAX_OLDER + 1 }, (_, m): [string, Func] => [
      `multistep${m}`,
      multistepFunction(m),
    ]),
    ['errorSquares', errorSquaresFunction()],
  ]
}

function moduleBytes(): Uint8Array {
  const named = kernels()
  const functions = named.map(([, f]) => f)
  const types = functions.map((f) => [
    0x60,
    ...vector(f.params.map((t) => [t])),
    ...vector(f.results.map((t) => [t])),
  ])
  const memoryImport = [...name('engine'), ...name('memory'), 0x02, 0x00, ...uleb(1)]
  const code = functions.map((f) => {
    const content = [...vector(f.locals.map(([count, type]) => [...uleb(count), type])), ...f.body, 0x0b]
    return [...uleb(content.length), ...content]
  })
  return new Uint8Array([
    ...MODULE_HEADER,
    ...section(1, vector(types)),
    ...section(2, vector([memoryImport])),
    ...section(3, vector(functions.map((_, j) => uleb(j)))),
    ...section(7, vector(named.map(([kernel], j) => [...name(kernel), 0x00, ...uleb(j)]))),
    ...section(10, vector(code)),
  ])
}

export const vectorKernelBytes = moduleBytes
