/**
 * Float32 log and sincos exactly as torch's AVX2 CPU kernels compute them (ATen `avx_mathfun.h`, the Cephes
 * polynomials of Pommier's `sse_mathfun`). ECMAScript leaves the precision of `Math.log/sin/cos` open, so
 * bit-exact noise needs its own transcendental functions. Every operation rounds with `Math.fround`, and the
 * multiply-adds that GCC contracts into FMA instructions in torch's build are emulated with `fma32` (spec §8.2).
 * @module
 */

const f32 = Math.fround

/**
 * Single-rounding float32 fused multiply-add of float32 inputs. a·b is exact in float64; the float64 sum is
 * rounded again to float32, which is only wrong when it lands exactly on a float32 midpoint, so that case is
 * settled with the sum's exact error term.
 */
export function fma32(a: number, b: number, c: number): number {
  const product = a * b
  const sum = product + c
  const rounded = f32(sum)
  const neighbour = rounded + 2 * (sum - rounded)
  if (neighbour === rounded || f32(neighbour) !== neighbour) return rounded
  const cPart = sum - product
  const error = product - (sum - cPart) + (c - cPart)
  if (error === 0) return rounded
  return error > 0 === neighbour > rounded ? neighbour : rounded
}

const scratch = new Float32Array(1)
const scratchBits = new Uint32Array(scratch.buffer)

const SQRTHF = f32(Math.SQRT1_2)
const LOG_P = [
  7.0376836292e-2, -1.151461031e-1, 1.167699874e-1, -1.2420140846e-1, 1.4249322787e-1, -1.6668057665e-1,
  2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1,
].map(f32)
const LOG_Q1 = f32(-2.1219444e-4)
const LOG_Q2 = f32(0.693359375)

/** `log256_ps` for one positive, normal float32 x (torch only calls it on 1 − u ∈ [2⁻²⁴, 1]). */
export function log32(x: number): number {
  scratch[0] = x
  const bits = scratchBits[0]
  let e = ((bits >>> 23) & 0xff) - 127 + 1
  scratchBits[0] = (bits & ~0x7f800000) | 0x3f000000
  const mantissa = scratch[0]
  let m: number
  if (mantissa < SQRTHF) {
    e -= 1
    m = f32(f32(mantissa - 1) + mantissa)
  } else {
    m = f32(mantissa - 1)
  }
  const z = f32(m * m)
  let y = LOG_P[0]
  for (let k = 1; k < LOG_P.length; k++) y = fma32(y, m, LOG_P[k])
  y = f32(y * m)
  y = fma32(y, z, f32(e * LOG_Q1))
  y = f32(y - f32(z * 0.5))
  return f32(f32(m + y) + f32(e * LOG_Q2))
}

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

/** Result slots of `sincos32`, reused to avoid an allocation per sample. */
export interface SinCos {
  sin: number
  cos: number
}

/** `sincos256_ps` for one float32 x with |x| < 8192: writes sin x and cos x into `out`. */
export function sincos32(x: number, out: SinCos): void {
  const negative = x < 0
  const absX = Math.abs(x)
  let octant = Math.trunc(f32(absX * FOUR_OVER_PI))
  octant = (octant + 1) & ~1
  const sinSign = negative !== ((octant & 4) !== 0)
  const cosSign = (~(octant - 2) & 4) !== 0
  const sinPolyFirst = (octant & 2) === 0

  let r = fma32(octant, DP1, absX)
  r = fma32(octant, DP2, r)
  r = fma32(octant, DP3, r)
  const z = f32(r * r)

  let cosPoly = fma32(fma32(COS_P0, z, COS_P1), z, COS_P2)
  cosPoly = fma32(f32(cosPoly * z), z, -f32(z * 0.5))
  cosPoly = f32(cosPoly + 1)

  let sinPoly = fma32(fma32(SIN_P0, z, SIN_P1), z, SIN_P2)
  sinPoly = fma32(f32(sinPoly * z), r, r)

  const sin = sinPolyFirst ? sinPoly : cosPoly
  const cos = sinPolyFirst ? cosPoly : sinPoly
  out.sin = sinSign ? -sin : sin
  out.cos = cosSign ? -cos : cos
}
