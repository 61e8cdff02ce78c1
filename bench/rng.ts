/**
 * torch-compatible noise: the current `torchRandn` against the original scalar implementation (kept below, as
 * it was before the bulk rewrite), on one Chroma 1024² latent (16×128×128 = 262,144 values), in one process.
 * Both paths run interleaved, so machine load hits them alike; the ratio is what to read, not the absolute ms.
 * The outputs are compared bit for bit first. Also timed: the JavaScript kernel that `torchRandn` falls back to
 * where WebAssembly SIMD is missing.
 *
 *   npx tsx bench/rng.ts            (options: --size N, --repeats N, --seed N)
 */
import { createJsKernel } from '../src/engine/rng/box-muller.js'
import { Mt19937 } from '../src/engine/rng/mt19937.js'
import { createNoiseSource, normalFill, torchRandn } from '../src/engine/rng/torch-randn.js'
import { createWasmKernel } from '../src/engine/rng/wasm-kernel.js'

function argument(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`)
  return at >= 0 ? Number(process.argv[at + 1]) : fallback
}

const size = argument('size', 16 * 128 * 128)
const repeats = argument('repeats', 15)
const seed = argument('seed', 1234)

// ---------------------------------------------------------------------------------------------------------
// The original implementation (mt19937.ts, float32-math.ts and the n ≥ 16 path of torch-randn.ts), verbatim
// in its arithmetic: one tempered draw per call, one scalar log/sincos per pair, `fma32` with its midpoint check.
// ---------------------------------------------------------------------------------------------------------
namespace original {
  const N = 624
  const M = 397
  const f32 = Math.fround

  export class Mt19937 {
    private readonly state = new Uint32Array(N)
    private index = N

    constructor(seed: number) {
      const state = this.state
      state[0] = seed >>> 0
      for (let j = 1; j < N; j++) {
        const previous = state[j - 1]
        state[j] = (Math.imul(1812433253, previous ^ (previous >>> 30)) + j) >>> 0
      }
    }

    nextUint32(): number {
      if (this.index >= N) this.twist()
      let y = this.state[this.index++]
      y ^= y >>> 11
      y ^= (y << 7) & 0x9d2c5680
      y ^= (y << 15) & 0xefc60000
      y ^= y >>> 18
      return y >>> 0
    }

    private twist(): void {
      const state = this.state
      for (let k = 0; k < N; k++) {
        const y = (state[k] & 0x80000000) | (state[(k + 1) % N] & 0x7fffffff)
        state[k] = state[(k + M) % N] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0)
      }
      this.index = 0
    }
  }

  function fma32(a: number, b: number, c: number): number {
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

  export interface SinCos {
    sin: number
    cos: number
  }

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

  const TWO_PI_F32 = f32(2 * Math.PI)

  function boxMuller16(data: Float32Array, offset: number, sinCos: SinCos): void {
    for (let j = offset; j < offset + 8; j++) {
      const radius = f32(Math.sqrt(-2 * log32(f32(1 - data[j]))))
      sincos32(f32(TWO_PI_F32 * data[j + 8]), sinCos)
      data[j] = radius * sinCos.cos
      data[j + 8] = radius * sinCos.sin
    }
  }

  /** `torch.manual_seed(seed); torch.randn(n)` for n ≥ 16 and a 32-bit seed, as the original computed it. */
  export function randn(seed: number, n: number): Float32Array {
    const engine = new Mt19937(seed)
    const uniform = () => (engine.nextUint32() & 0xffffff) * 2 ** -24
    const data = new Float32Array(n)
    for (let i = 0; i < n; i++) data[i] = uniform()
    const sinCos: SinCos = { sin: 0, cos: 0 }
    for (let i = 0; i + 16 <= n; i += 16) boxMuller16(data, i, sinCos)
    if (n % 16 !== 0) {
      const start = n - 16
      for (let i = 0; i < 16; i++) data[start + i] = uniform()
      boxMuller16(data, start, sinCos)
    }
    return data
  }
}

// ---------------------------------------------------------------------------------------------------------

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]

function cpuMs(run: () => void): number {
  const cpu0 = process.cpuUsage()
  run()
  const used = process.cpuUsage(cpu0)
  return (used.user + used.system) / 1000
}

function sameBits(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length)
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length)
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false
  return true
}

function main(): void {
  if (size < 16) throw new RangeError('--size must be at least 16 (the float32 block path)')
  for (const n of [size, size + 5]) {
    if (!sameBits(original.randn(seed, n), torchRandn(seed, [n])))
      throw new Error(`torchRandn(${seed}, [${n}]) differs from the original implementation`)
  }
  console.log(
    `torchRandn(${seed}, [${size}]) and [${size + 5}]: bit-identical to the original implementation`,
  )

  const jsKernel = createJsKernel()
  const fallback = (s: number) => normalFill(new Mt19937(s), size, jsKernel)
  if (!sameBits(fallback(seed), torchRandn(seed, [size])))
    throw new Error('the JavaScript kernel differs from torchRandn')
  console.log(
    `default kernel: ${createWasmKernel() ? 'WebAssembly SIMD' : 'JavaScript (no WebAssembly SIMD here)'}`,
  )

  // warm-up: JIT all paths
  for (let r = 0; r < 3; r++) {
    original.randn(seed + r, size)
    torchRandn(seed + r, [size])
    fallback(seed + r)
  }
  const source = createNoiseSource(seed)
  source(size)

  const oldCpu: number[] = []
  const newCpu: number[] = []
  const sourceCpu: number[] = []
  const fallbackCpu: number[] = []
  const oldWall: number[] = []
  const newWall: number[] = []
  for (let r = 0; r < repeats; r++) {
    let t0 = performance.now()
    oldCpu.push(cpuMs(() => original.randn(seed + r, size)))
    oldWall.push(performance.now() - t0)
    t0 = performance.now()
    newCpu.push(cpuMs(() => torchRandn(seed + r, [size])))
    newWall.push(performance.now() - t0)
    sourceCpu.push(cpuMs(() => source(size)))
    fallbackCpu.push(cpuMs(() => fallback(seed + r)))
  }
  const ratios = oldCpu.map((old, r) => old / newCpu[r])
  console.log(`${size} values, ${repeats} interleaved runs, median CPU ms (wall ms):`)
  console.log(`  original        ${median(oldCpu).toFixed(2)} (${median(oldWall).toFixed(2)})`)
  console.log(`  torchRandn      ${median(newCpu).toFixed(2)} (${median(newWall).toFixed(2)})`)
  console.log(`  noise source    ${median(sourceCpu).toFixed(2)}  (next ${size} values of one stream)`)
  console.log(
    `  JS kernel       ${median(fallbackCpu).toFixed(2)}  (fallback without WebAssembly: ${(median(oldCpu) / median(fallbackCpu)).toFixed(1)}× the original)`,
  )
  console.log(
    `speed-up: ${(median(oldCpu) / median(newCpu)).toFixed(1)}× (ratio of medians), ${median(ratios).toFixed(1)}× (median of per-run ratios)`,
  )
}

main()
