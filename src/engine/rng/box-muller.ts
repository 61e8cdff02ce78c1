/**
 * The float32 Box–Muller of torch's `normal_fill_16_AVX2`, specialised to the only inputs it ever sees: the
 * 24-bit uniforms u = k·2⁻²⁴ (k = 0 … 2²⁴ − 1) of `uniform_real_distribution<float>`. `log32` and `sincos32`
 * in `float32-math.ts` are the readable general versions; the kernels here compute the same bits faster:
 *
 * - they take the integer k, so 1 − u = (2²⁴ − k)·2⁻²⁴ splits into exponent and mantissa with `Math.clz32`
 *   and a power-of-two table instead of a float32 bit cast;
 * - every multiply-add that torch fuses is one float64 expression rounded once more to float32,
 *   `f32(a·b + c)`, without `fma32`'s midpoint check: a·b is exact in float64, so this is the correctly
 *   rounded FMA unless the float64 sum lands exactly on a float32 midpoint, and on this input domain it
 *   never does. The argument is exhaustive: `kernels.test.ts` (with PIGMENT_RNG_EXHAUSTIVE=1; a sample
 *   otherwise) compares ρ and (cos θ, sin θ) with `log32`/`sincos32` for all 2²⁴ values of k, bit for bit;
 * - `Math.fround` is left out only where the float64 value is already a float32: x·2^k, or a sum or product
 *   whose exact value fits in 24 bits (noted at each site).
 *
 * `createJsKernel` wraps them as a `NormalKernel`; `wasm-kernel.ts` is the same arithmetic in WebAssembly
 * SIMD, the default where the runtime has it.
 * @module
 */
import type { Mt19937 } from './mt19937.js'

const f32 = Math.fround

/** 2^(c − 32) for c = Math.clz32(K): scales K ∈ [2^(31−c), 2^(32−c)) into [0.5, 1). */
const MANTISSA_SCALE = Float64Array.from({ length: 33 }, (_, c) => 2 ** (c - 32))

const SQRTHF = f32(Math.SQRT1_2)
const LOG_P0 = f32(7.0376836292e-2)
const LOG_P1 = f32(-1.151461031e-1)
const LOG_P2 = f32(1.167699874e-1)
const LOG_P3 = f32(-1.2420140846e-1)
const LOG_P4 = f32(1.4249322787e-1)
const LOG_P5 = f32(-1.6668057665e-1)
const LOG_P6 = f32(2.0000714765e-1)
const LOG_P7 = f32(-2.4999993993e-1)
const LOG_P8 = f32(3.3333331174e-1)
const LOG_Q1 = f32(-2.1219444e-4)
/** 0.693359375 = 355·2⁻⁹: e·LOG_Q2 has at most 14 significant bits, so it is exact in float32. */
const LOG_Q2 = 0.693359375

/**
 * ρ = √(−2 ln(1 − u)) for u = k·2⁻²⁴, as `normal_fill_16_AVX2` computes it in float32:
 * `f32(√(−2·log32(f32(1 − u))))`, bit for bit.
 */
export function radius24(k: number): number {
  // 1 − u = K·2⁻²⁴ exactly, K ∈ [1, 2²⁴]; as mantissa·2^e with mantissa ∈ [0.5, 1): e = 8 − clz32(K).
  const big = 16777216 - k
  const clz = Math.clz32(big)
  const mantissa = big * MANTISSA_SCALE[clz]
  let e = 8 - clz
  let m: number
  // mantissa is a multiple of 2⁻²⁴ in [0.5, 1): mantissa − 1 and 2·mantissa − 1 fit in 24 bits (exact).
  if (mantissa < SQRTHF) {
    e -= 1
    m = mantissa + mantissa - 1
  } else {
    m = mantissa - 1
  }
  const z = f32(m * m)
  let y = f32(LOG_P0 * m + LOG_P1)
  y = f32(y * m + LOG_P2)
  y = f32(y * m + LOG_P3)
  y = f32(y * m + LOG_P4)
  y = f32(y * m + LOG_P5)
  y = f32(y * m + LOG_P6)
  y = f32(y * m + LOG_P7)
  y = f32(y * m + LOG_P8)
  y = f32(y * m)
  y = f32(y * z + f32(e * LOG_Q1))
  // z·0.5 is a power-of-two scaling of a float32 (z is 0 or ≥ 2⁻⁴⁸, far from the subnormals): exact.
  y = f32(y - z * 0.5)
  const log = f32(f32(m + y) + e * LOG_Q2)
  // −2·log is exact; √ of a float32 in float64, rounded to float32, is the correctly rounded float32 √.
  return f32(Math.sqrt(-2 * log))
}

/** f32(2π)·2⁻²⁴: θ = f32(f32(2π)·u) = f32(k·TWO_PI_24), the product being exact in float64. */
const TWO_PI_24 = f32(2 * Math.PI) * 2 ** -24
const FOUR_OVER_PI = f32(1.27323954473516)
const DP1 = f32(-0.78515625)
const DP2 = f32(-2.4187564849853516e-4)
const DP3 = f32(-3.774894977445941e-8)
const SIN_P0 = f32(-1.9515295891e-4)
const SIN_P1 = f32(8.3321608736e-3)
const SIN_P2 = f32(-1.6666654611e-1)
const COS_P0 = f32(2.443315711809948e-5)
const COS_P1 = f32(-1.388731625493765e-3)
const COS_P2 = f32(4.166664568298827e-2)

/**
 * For θ = 2π·u, u = k·2⁻²⁴ (`sincos256_ps` on f32(f32(2π)·u)): out[j] = f32(ρ·cos θ) and
 * out[j + 8] = f32(ρ·sin θ), bit for bit, as `normal_fill_16_AVX2` stores them.
 */
export function rotate24(out: Float32Array, j: number, radius: number, k: number): void {
  const x = f32(k * TWO_PI_24) // x ∈ [0, 2π): no sign to carry
  const octant = ((f32(x * FOUR_OVER_PI) | 0) + 1) & ~1
  // Cody–Waite reduction. For octant ≥ 2, x ≥ π/4 is a multiple of 2⁻²⁴ and |x − octant·DP1| < 1, so the
  // first step is exact in float32 (and it is x itself for octant 0); the other two sums are exact in float64.
  let r = x + octant * DP1
  r = f32(r + octant * DP2)
  r = f32(r + octant * DP3)
  const z = f32(r * r)

  let cosPoly = f32(f32(COS_P0 * z + COS_P1) * z + COS_P2)
  cosPoly = f32(f32(cosPoly * z) * z - z * 0.5)
  cosPoly = f32(cosPoly + 1)

  let sinPoly = f32(f32(SIN_P0 * z + SIN_P1) * z + SIN_P2)
  sinPoly = f32(f32(sinPoly * z) * r + r)

  let sin: number
  let cos: number
  if ((octant & 2) === 0) {
    sin = sinPoly
    cos = cosPoly
  } else {
    sin = cosPoly
    cos = sinPoly
  }
  out[j] = (~(octant - 2) & 4) === 0 ? radius * cos : -radius * cos
  out[j + 8] = (octant & 4) === 0 ? radius * sin : -radius * sin
}

/**
 * `normal_fill_16_AVX2` on the block at offset: draws[offset … offset + 15] hold 16 draws k (the uniforms
 * k·2⁻²⁴); out[j], out[j + 8] become ρ cos θ, ρ sin θ with ρ from draws[j] and θ from draws[j + 8].
 * `draws` and `out` may view the same memory.
 */
export function boxMuller16(draws: Int32Array, out: Float32Array, offset: number): void {
  for (let j = offset; j < offset + 8; j++) {
    const k1 = draws[j]
    const k2 = draws[j + 8]
    rotate24(out, j, radius24(k1), k2)
  }
}

/**
 * `normal_fill_AVX2`'s work on a buffer of its own: draws from an MT19937 stream, then Box–Muller on whole
 * blocks of 16. The JavaScript kernel below and the WebAssembly one (`wasm-kernel.ts`) give the same bits.
 */
export interface NormalKernel {
  /** How many values one `draw` or `run` can take (a multiple of 16). */
  readonly capacity: number
  /** The buffer's input side: the 24-bit draws k (uniforms k·2⁻²⁴) that `draw` writes and `run` reads. */
  readonly draws: Int32Array
  /** The same buffer's output side: after `run(count)`, normals[0 … count) hold the normals of the draws. */
  readonly normals: Float32Array
  /** Takes the next `count` draws of `engine` (1 ≤ count ≤ capacity) into the buffer, advancing it. */
  draw(engine: Mt19937, count: number): void
  /** `normal_fill_16_AVX2` on each whole block of 16 among the first `count` draws. */
  run(count: number): void
}

/** The JavaScript kernel, for runtimes without WebAssembly SIMD. */
export function createJsKernel(capacity = 16384): NormalKernel {
  if (!Number.isInteger(capacity) || capacity < 16 || capacity % 16 !== 0)
    throw new RangeError(`createJsKernel: capacity must be a positive multiple of 16, got ${capacity}`)
  const buffer = new ArrayBuffer(capacity * 4)
  const draws = new Int32Array(buffer)
  const normals = new Float32Array(buffer)
  return {
    capacity,
    draws,
    normals,
    draw(engine: Mt19937, count: number): void {
      engine.fillLow24(draws, 0, count)
    },
    run(count: number): void {
      for (let i = 0; i + 16 <= count; i += 16) boxMuller16(draws, normals, i)
    },
  }
}
