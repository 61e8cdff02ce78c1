/**
 * torch's `normal_fill_AVX2` as a WebAssembly SIMD module: the MT19937 twist and tempering, and the float32
 * Box–Muller of `normal_fill_16_AVX2`, four lanes at a time, bit for bit equal to the JavaScript kernel in
 * `box-muller.ts` (and so to `Mt19937`, `log32` and `sincos32`).
 *
 * WebAssembly float32 arithmetic is IEEE single precision with round-to-nearest-even, like the AVX
 * instructions torch runs. Each multiply-add that torch's build fuses into an FMA is a float64 multiply-add
 * of float32 inputs, rounded once more to float32: a·b is exact in float64, and `box-muller.ts` explains
 * (with an exhaustive check over every input) why the float64 sum never lands on a float32 midpoint here.
 *
 * The module is assembled below from a few dozen opcodes (WebAssembly core spec, binary format; SIMD opcode
 * table), so there is no build step and no binary in the repository. `createWasmKernel` returns null where
 * WebAssembly or its SIMD is unavailable (e.g. `node --jitless`); callers then use the JavaScript kernel.
 * @module
 */
import { type Bytes, MODULE_HEADER, name, section, sleb, uleb, vector, webAssembly } from '../wasm-binary.js'
import type { NormalKernel } from './box-muller.js'
import type { Mt19937 } from './mt19937.js'

const I32 = 0x7f
const V128 = 0x7b

// ----- instructions: each helper returns the bytes that leave its result on the stack -----

const get = (local: number): Bytes => [0x20, ...uleb(local)]
const set = (local: number, value: Bytes): Bytes => [...value, 0x21, ...uleb(local)]
/** An instruction with a fixed encoding applied to operands already expressed as bytes. */
const op =
  (...encoding: number[]) =>
  (...operands: Bytes[]): Bytes => [...operands.flat(), ...encoding]
/** A SIMD instruction: prefix 0xfd, then the opcode as LEB128, then any immediates. */
const simd = (opcode: number, ...immediates: number[]) => op(0xfd, ...uleb(opcode), ...immediates)

const i32 = {
  const: (value: number): Bytes => [0x41, ...sleb(value)],
  load: (address: Bytes, offset = 0): Bytes => [...address, 0x28, 2, ...uleb(offset)],
  store: (address: Bytes, value: Bytes, offset = 0): Bytes => [
    ...address,
    ...value,
    0x36,
    2,
    ...uleb(offset),
  ],
  ltU: op(0x49),
  geU: op(0x4f),
  add: op(0x6a),
  sub: op(0x6b),
  and: op(0x71),
  or: op(0x72),
  xor: op(0x73),
  shl: op(0x74),
  shrU: op(0x76),
}
/** `select(a, b, condition)`: a where condition ≠ 0, else b. */
const select = op(0x1b)
const loop = (...body: Bytes[]): Bytes => [0x03, 0x40, ...body.flat(), 0x0b]
const ifThen = (condition: Bytes, ...body: Bytes[]): Bytes => [...condition, 0x04, 0x40, ...body.flat(), 0x0b]
/** Branch back to the start of the innermost enclosing loop while `condition` ≠ 0. */
const repeatIf = (condition: Bytes): Bytes => [...condition, 0x0d, 0]
const call = (func: number): Bytes => [0x10, ...uleb(func)]

/** memarg: alignment hint 2⁴, then the constant offset. */
const v128Load = (address: Bytes, offset = 0): Bytes => simd(0x00, 4, ...uleb(offset))(address)
const v128Store = (address: Bytes, value: Bytes, offset = 0): Bytes =>
  simd(0x0b, 4, ...uleb(offset))(address, value)

function splat(value: number, type: 'i32' | 'f32' | 'f64'): Bytes {
  const buffer = new ArrayBuffer(16)
  const view =
    type === 'i32'
      ? new Int32Array(buffer)
      : type === 'f32'
        ? new Float32Array(buffer)
        : new Float64Array(buffer)
  view.fill(value)
  return [0xfd, 0x0c, ...new Uint8Array(buffer)]
}
const i32x4Splat = (value: number): Bytes => splat(value, 'i32')
const f32x4Splat = (value: number): Bytes => splat(value, 'f32')
const f64x2Splat = (value: number): Bytes => splat(value, 'f64')

const v128 = {
  and: simd(0x4e),
  andnot: simd(0x4f),
  or: simd(0x50),
  xor: simd(0x51),
  bitselect: simd(0x52),
}
const i32x4 = {
  eq: simd(0x37),
  shl: simd(0xab),
  shrS: simd(0xac),
  shrU: simd(0xad),
  add: simd(0xae),
  sub: simd(0xb1),
  truncSatF32x4S: simd(0xf8),
}
const f32x4 = {
  lt: simd(0x43),
  sqrt: simd(0xe3),
  add: simd(0xe4),
  sub: simd(0xe5),
  mul: simd(0xe6),
  convertI32x4S: simd(0xfa),
  demoteF64x2Zero: simd(0x5e),
}
const f64x2 = {
  add: simd(0xf0),
  sub: simd(0xf1),
  mul: simd(0xf2),
  promoteLowF32x4: simd(0x5f),
}
/** Lanes 0, 1 of `low` and lanes 0, 1 of `high` as one 32×4 vector. */
const joinHalves = simd(0x0d, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23)
/** Lanes 2, 3 of a 32×4 vector moved down to lanes 0, 1. */
const highHalf = (value: Bytes): Bytes =>
  simd(0x0d, 8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15)(value, value)
/** Both float64 lanes rounded to float32 and widened back: `Math.fround` on each. */
const round = (value: Bytes): Bytes => f64x2.promoteLowF32x4(f32x4.demoteF64x2Zero(value))
const promoteLow = (value: Bytes): Bytes => f64x2.promoteLowF32x4(value)
const promoteHigh = (value: Bytes): Bytes => f64x2.promoteLowF32x4(highHalf(value))

// ----- memory: the MT19937 state, then the draws/normals buffer -----

const N = 624
const M = 397
const MATRIX_A = 0x9908b0df | 0
/** 624 state words at address 0; the tempering loop may read up to 3 words past them. */
const STATE = 0
/** The buffer: `CAPACITY` int32 draws in, float32 normals out; vector stores may run 3 values past its end. */
const BUFFER = 4096
const CAPACITY = 16384
const PAGES = 2

// ----- MT19937 (ATen `MT19937RNGEngine.h`), as in `mt19937.ts` -----

/** (y >>> 1) ^ (MATRIX_A if y is odd) for y = upper bit of `a` | lower 31 bits of `b`, on int32 values. */
function twistWord(a: Bytes, b: Bytes): Bytes {
  // y is used three times: recompute the cheap mix rather than spend a local
  const y = () => i32.or(i32.and(a, i32.const(0x80000000 | 0)), i32.and(b, i32.const(0x7fffffff)))
  return i32.xor(
    i32.shrU(y(), i32.const(1)),
    i32.and(i32.sub(i32.const(0), i32.and(y(), i32.const(1))), i32.const(MATRIX_A)),
  )
}

/** The same on four lanes, using the v128 local `y`: odd lanes get bit 0 spread to a full mask. */
function twistLanes(a: Bytes, b: Bytes, y: number): Bytes {
  return [
    ...set(y, v128.bitselect(a, b, i32x4Splat(0x80000000 | 0))),
    ...v128.xor(
      i32x4.shrU(get(y), i32.const(1)),
      v128.and(i32x4.shrS(i32x4.shl(get(y), i32.const(31)), i32.const(31)), i32x4Splat(MATRIX_A)),
    ),
  ]
}

/** `twist()`: regenerates the 624 words in place (function 2, no parameters). */
function twistFunction(): { locals: Bytes[]; code: Bytes } {
  const K = 0 // i32 local: byte address of the word being replaced
  const Y = 1 // v128 local
  const wordAt = (index: number): Bytes => i32.load(i32.const(STATE + 4 * index))
  const scalarStep = (k: number, xIndex: number, nextIndex: number): Bytes =>
    i32.store(i32.const(STATE + 4 * k), i32.xor(wordAt(xIndex), twistWord(wordAt(k), wordAt(nextIndex))))
  /** state[k … k+3] = x[k … k+3] ^ twist(state[k … k+3], state[k+1 … k+4]) while k < end */
  const vectorLoop = (end: number, x: Bytes): Bytes =>
    loop(
      v128Store(get(K), v128.xor(x, twistLanes(v128Load(get(K)), v128Load(get(K), 4), Y))),
      set(K, i32.add(get(K), i32.const(16))),
      repeatIf(i32.ltU(get(K), i32.const(STATE + 4 * end))),
    )
  const code = [
    // k < N − M (= 227): x = old state[k + M]; vectors up to 224, then three words one by one
    set(K, i32.const(STATE)),
    vectorLoop(224, v128Load(get(K), 4 * M)),
    scalarStep(224, 224 + M, 225),
    scalarStep(225, 225 + M, 226),
    scalarStep(226, 226 + M, 227),
    // 227 ≤ k < N − 1: x = new state[k − (N − M)], already written (k − 227 < k − 3)
    set(K, i32.const(STATE + 4 * 227)),
    vectorLoop(N - 1, v128Load(i32.sub(get(K), i32.const(4 * (N - M))))),
    // k = N − 1 wraps around to the new state[0]
    scalarStep(N - 1, M - 1, 0),
  ].flat()
  return {
    locals: [
      [1, I32],
      [1, V128],
    ].map(([count, type]) => [...uleb(count), type]),
    code,
  }
}

/**
 * `fillLow24(out, count, index) → index`: the next `count` tempered outputs & 0xffffff at byte address
 * `out`, starting at state word `index` (624: twist first); returns the index after them (function 1).
 */
function fillFunction(): { locals: Bytes[]; code: Bytes } {
  const OUT = 0
  const COUNT = 1
  const INDEX = 2
  const TAKE = 3
  const S = 4
  const STOP = 5
  const Y = 6
  const temper = (y: number): Bytes[] => [
    set(y, v128.xor(get(y), i32x4.shrU(get(y), i32.const(11)))),
    set(y, v128.xor(get(y), v128.and(i32x4.shl(get(y), i32.const(7)), i32x4Splat(0x9d2c5680 | 0)))),
    set(y, v128.xor(get(y), v128.and(i32x4.shl(get(y), i32.const(15)), i32x4Splat(0xefc60000 | 0)))),
    set(y, v128.xor(get(y), i32x4.shrU(get(y), i32.const(18)))),
  ]
  const code = [
    loop(
      ifThen(i32.geU(get(INDEX), i32.const(N)), call(2), set(INDEX, i32.const(0))),
      // take = min(count, N − index) ≥ 1
      set(
        TAKE,
        select(
          get(COUNT),
          i32.sub(i32.const(N), get(INDEX)),
          i32.ltU(get(COUNT), i32.sub(i32.const(N), get(INDEX))),
        ),
      ),
      set(S, i32.add(i32.const(STATE), i32.shl(get(INDEX), i32.const(2)))),
      set(STOP, i32.add(get(S), i32.shl(get(TAKE), i32.const(2)))),
      // four words at a time; the last vector may read and write up to three words too many
      loop(
        set(Y, v128Load(get(S))),
        ...temper(Y),
        v128Store(get(OUT), v128.and(get(Y), i32x4Splat(0xffffff))),
        set(OUT, i32.add(get(OUT), i32.const(16))),
        set(S, i32.add(get(S), i32.const(16))),
        repeatIf(i32.ltU(get(S), get(STOP))),
      ),
      // step back over the extra words: the next run overwrites them
      set(OUT, i32.sub(get(OUT), i32.sub(get(S), get(STOP)))),
      set(INDEX, i32.add(get(INDEX), get(TAKE))),
      set(COUNT, i32.sub(get(COUNT), get(TAKE))),
      repeatIf(get(COUNT)),
    ),
    get(INDEX),
  ].flat()
  return {
    locals: [
      [3, I32],
      [1, V128],
    ].map(([count, type]) => [...uleb(count), type]),
    code,
  }
}

// ----- Box–Muller (`normal_fill_16_AVX2`, ATen `avx_mathfun.h` `log256_ps` and `sincos256_ps`) -----

const f32 = Math.fround
const LOG_P = [
  7.0376836292e-2, -1.151461031e-1, 1.167699874e-1, -1.2420140846e-1, 1.4249322787e-1, -1.6668057665e-1,
  2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1,
].map(f32)
const LOG_Q1 = f32(-2.1219444e-4)
const LOG_Q2 = 0.693359375
const SQRTHF = f32(Math.SQRT1_2)
const TWO_PI_24 = f32(2 * Math.PI) * 2 ** -24
const FOUR_OVER_PI = f32(1.27323954473516)
const DP1 = f32(-0.78515625)
/** −4058·2⁻²⁴: 11 significant bits, so octant·DP2 (octant ≤ 8) is exact in float32. */
const DP2 = f32(-2.4187564849853516e-4)
const DP3 = f32(-3.774894977445941e-8)
const SIN_P = [-1.9515295891e-4, 8.3321608736e-3, -1.6666654611e-1].map(f32)
const COS_P = [2.443315711809948e-5, -1.388731625493765e-3, 4.166664568298827e-2].map(f32)

/**
 * `boxMuller(start, end)`: for each 64-byte block of 16 int32 draws k in memory[start … end), the pairs
 * (j, j + 8) become the float32 normals (ρ cos θ, ρ sin θ); four pairs per pass of the loop (function 0).
 */
function boxMullerFunction(): { locals: Bytes[]; code: Bytes } {
  const P = 0 // i32 parameter: byte address of the current four pairs (k₁ at P, k₂ at P + 32)
  const END = 1 // i32 parameter: end of the last block
  let count = 0
  const local = () => 2 + count++
  const [BITS, MANT, MASK, E, M, Z, EQ1, ML, MH, YL, YH, RADIUS] = Array.from({ length: 12 }, local)
  const [X, OCT, OF, R2, RL, RH, ZL, ZH, CL, CH, SL, SH, COS, SIN, SWAP] = Array.from({ length: 15 }, local)

  /** y = f32(y·m + c) in both float64 lanes: a float32 FMA. */
  const fmaStep = (y: number, m: number, c: number): Bytes =>
    set(y, round(f64x2.add(f64x2.mul(get(y), get(m)), f64x2Splat(c))))

  // ρ = √(−2·log(1 − u)): `log256_ps` on 1 − u = K·2⁻²⁴, K = 2²⁴ − k. K is exact as a float32 and has the
  // mantissa bits of 1 − u, with an exponent 24 higher.
  const radius: Bytes[] = [
    set(BITS, f32x4.convertI32x4S(i32x4.sub(i32x4Splat(16777216), v128Load(get(P))))),
    set(MANT, v128.or(v128.and(get(BITS), i32x4Splat(0x007fffff)), i32x4Splat(0x3f000000))),
    set(MASK, f32x4.lt(get(MANT), f32x4Splat(SQRTHF))),
    // e = biased exponent − 126 − 24, less 1 where the mantissa is below √½ (the mask is −1 there)
    set(
      E,
      f32x4.convertI32x4S(
        i32x4.add(i32x4.sub(i32x4.shrU(get(BITS), i32.const(23)), i32x4Splat(150)), get(MASK)),
      ),
    ),
    // m = mantissa − 1, plus mantissa where it is below √½: both exact
    set(M, f32x4.add(f32x4.sub(get(MANT), f32x4Splat(1)), v128.and(get(MANT), get(MASK)))),
    set(Z, f32x4.mul(get(M), get(M))),
    set(EQ1, f32x4.mul(get(E), f32x4Splat(LOG_Q1))),
    set(ML, promoteLow(get(M))),
    set(MH, promoteHigh(get(M))),
    set(YL, round(f64x2.add(f64x2.mul(get(ML), f64x2Splat(LOG_P[0])), f64x2Splat(LOG_P[1])))),
    set(YH, round(f64x2.add(f64x2.mul(get(MH), f64x2Splat(LOG_P[0])), f64x2Splat(LOG_P[1])))),
  ]
  for (let k = 2; k < LOG_P.length; k++) radius.push(fmaStep(YL, ML, LOG_P[k]), fmaStep(YH, MH, LOG_P[k]))
  radius.push(
    set(YL, round(f64x2.mul(get(YL), get(ML)))),
    set(YH, round(f64x2.mul(get(YH), get(MH)))),
    // fma(y, z, f32(e·Q1)), left as float32 in lanes 0 and 1 of each half
    set(YL, f32x4.demoteF64x2Zero(f64x2.add(f64x2.mul(get(YL), promoteLow(get(Z))), promoteLow(get(EQ1))))),
    set(YH, f32x4.demoteF64x2Zero(f64x2.add(f64x2.mul(get(YH), promoteHigh(get(Z))), promoteHigh(get(EQ1))))),
    // log = (m + (y − z·0.5)) + e·Q2, z·0.5 and e·Q2 being exact; ρ = √(−2·log)
    set(
      RADIUS,
      f32x4.sqrt(
        f32x4.mul(
          f32x4.add(
            f32x4.add(get(M), f32x4.sub(joinHalves(get(YL), get(YH)), f32x4.mul(get(Z), f32x4Splat(0.5)))),
            f32x4.mul(get(E), f32x4Splat(LOG_Q2)),
          ),
          f32x4Splat(-2),
        ),
      ),
    ),
  )

  /** p₀·z + p₁, then ·z + p₂, then f32(·z): the first three steps of both sincos polynomials. */
  const polynomial = (out: number, z: number, p: number[]): Bytes[] => [
    set(out, round(f64x2.add(f64x2.mul(get(z), f64x2Splat(p[0])), f64x2Splat(p[1])))),
    fmaStep(out, z, p[2]),
    set(out, round(f64x2.mul(get(out), get(z)))),
  ]
  // θ = f32(f32(2π)·u) ∈ [0, 2π): `sincos256_ps` without the sign of the argument
  const angle: Bytes[] = [
    set(X, f32x4.mul(f32x4.convertI32x4S(v128Load(get(P), 32)), f32x4Splat(TWO_PI_24))),
    set(
      OCT,
      v128.and(
        i32x4.add(i32x4.truncSatF32x4S(f32x4.mul(get(X), f32x4Splat(FOUR_OVER_PI))), i32x4Splat(1)),
        i32x4Splat(~1),
      ),
    ),
    set(OF, f32x4.convertI32x4S(get(OCT))),
    // Cody–Waite: x + octant·DP1 is exact; octant·DP2 is exact, so one rounding makes the FMA; the third
    // step is a true FMA
    set(
      R2,
      f32x4.add(f32x4.add(get(X), f32x4.mul(get(OF), f32x4Splat(DP1))), f32x4.mul(get(OF), f32x4Splat(DP2))),
    ),
    set(RL, round(f64x2.add(f64x2.mul(promoteLow(get(OF)), f64x2Splat(DP3)), promoteLow(get(R2))))),
    set(RH, round(f64x2.add(f64x2.mul(promoteHigh(get(OF)), f64x2Splat(DP3)), promoteHigh(get(R2))))),
    set(ZL, round(f64x2.mul(get(RL), get(RL)))),
    set(ZH, round(f64x2.mul(get(RH), get(RH)))),
    // cos polynomial: fma(f32(fma(fma(c₀, z, c₁), z, c₂)·z), z, −z·0.5) + 1
    ...polynomial(CL, ZL, COS_P),
    ...polynomial(CH, ZH, COS_P),
    set(
      CL,
      f32x4.demoteF64x2Zero(f64x2.sub(f64x2.mul(get(CL), get(ZL)), f64x2.mul(get(ZL), f64x2Splat(0.5)))),
    ),
    set(
      CH,
      f32x4.demoteF64x2Zero(f64x2.sub(f64x2.mul(get(CH), get(ZH)), f64x2.mul(get(ZH), f64x2Splat(0.5)))),
    ),
    set(COS, f32x4.add(joinHalves(get(CL), get(CH)), f32x4Splat(1))),
    // sin polynomial: fma(f32(fma(fma(s₀, z, s₁), z, s₂)·z), r, r)
    ...polynomial(SL, ZL, SIN_P),
    ...polynomial(SH, ZH, SIN_P),
    set(SL, f32x4.demoteF64x2Zero(f64x2.add(f64x2.mul(get(SL), get(RL)), get(RL)))),
    set(SH, f32x4.demoteF64x2Zero(f64x2.add(f64x2.mul(get(SH), get(RH)), get(RH)))),
    set(SIN, joinHalves(get(SL), get(SH))),
    // octants 2 and 6 swap the polynomials; the signs are bit 2 of octant (sin) and of ~(octant − 2) (cos)
    set(SWAP, i32x4.eq(v128.and(get(OCT), i32x4Splat(2)), i32x4Splat(0))),
    v128Store(
      get(P),
      f32x4.mul(
        get(RADIUS),
        v128.xor(
          v128.bitselect(get(COS), get(SIN), get(SWAP)),
          i32x4.shl(v128.andnot(i32x4Splat(4), i32x4.sub(get(OCT), i32x4Splat(2))), i32.const(29)),
        ),
      ),
    ),
    v128Store(
      get(P),
      f32x4.mul(
        get(RADIUS),
        v128.xor(
          v128.bitselect(get(SIN), get(COS), get(SWAP)),
          i32x4.shl(v128.and(get(OCT), i32x4Splat(4)), i32.const(29)),
        ),
      ),
      32,
    ),
  ]

  const code = loop(
    ...radius,
    ...angle,
    // P moves 16 bytes to the second four pairs of a block, then 48 to the next block
    set(P, i32.add(i32.add(get(P), i32.const(16)), i32.shl(i32.and(get(P), i32.const(16)), i32.const(1)))),
    repeatIf(i32.ltU(get(P), get(END))),
  )
  return { locals: [[...uleb(count), V128]], code }
}

function moduleBytes(): Uint8Array {
  const functions = [
    { type: 0, ...boxMullerFunction() },
    { type: 1, ...fillFunction() },
    { type: 2, ...twistFunction() },
  ]
  const types = [
    [0x60, ...vector([[I32], [I32]]), ...vector([])],
    [0x60, ...vector([[I32], [I32], [I32]]), ...vector([[I32]])],
    [0x60, ...vector([]), ...vector([])],
  ]
  const bodies = functions.map(({ locals, code }) => {
    const body = [...vector(locals), ...code, 0x0b]
    return [...uleb(body.length), ...body]
  })
  return new Uint8Array([
    ...MODULE_HEADER,
    ...section(1, vector(types)),
    ...section(3, vector(functions.map(({ type }) => [type]))),
    ...section(5, vector([[0x00, ...uleb(PAGES)]])),
    ...section(
      7,
      vector([
        [...name('memory'), 0x02, 0],
        [...name('boxMuller'), 0x00, 0],
        [...name('fillLow24'), 0x00, 1],
      ]),
    ),
    ...section(10, vector(bodies)),
  ])
}

/** The WebAssembly SIMD kernel, or null where this runtime cannot compile or run it. */
export function createWasmKernel(): NormalKernel | null {
  const api = webAssembly()
  if (api === undefined) return null
  let exports: Record<string, unknown>
  try {
    exports = new api.Instance(new api.Module(moduleBytes())).exports
  } catch {
    return null
  }
  const memory = (exports.memory as { buffer: ArrayBuffer }).buffer
  const boxMuller = exports.boxMuller as (start: number, end: number) => void
  const fillLow24 = exports.fillLow24 as (out: number, count: number, index: number) => number
  const state = new Uint32Array(memory, STATE, N)
  return {
    capacity: CAPACITY,
    draws: new Int32Array(memory, BUFFER, CAPACITY),
    normals: new Float32Array(memory, BUFFER, CAPACITY),
    draw(engine: Mt19937, count: number): void {
      if (count <= 0) return
      const index = engine.saveState(state)
      engine.restoreState(state, fillLow24(BUFFER, count, index))
    },
    run(count: number): void {
      if (count >= 16) boxMuller(BUFFER, BUFFER + 4 * (count - (count % 16)))
    },
  }
}

/** The module's bytes (for tests: it must validate). */
export const wasmKernelBytes = moduleBytes
