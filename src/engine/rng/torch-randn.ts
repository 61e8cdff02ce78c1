/**
 * `torch.manual_seed(seed); torch.randn(shape)` on CPU in float32, bit for bit (spec §8.2; ATen
 * `native/cpu/DistributionTemplates.h` `normal_fill_AVX2` and `core/DistributionsHelper.h`
 * `normal_distribution`). This is the initial noise ComfyUI draws for a job.
 * @module
 */
import type { NoiseSource } from '../types.js'
import { log32, type SinCos, sincos32 } from './float32-math.js'
import { Mt19937, type Seed } from './mt19937.js'

const f32 = Math.fround
const TWO_PI_F32 = f32(2 * Math.PI)
const UNIFORM24_SCALE = 2 ** -24
const UNIFORM53_SCALE = 2 ** -53

/**
 * torch's CPU generator (`CPUGeneratorImpl`): an MT19937 stream plus the cached second Box–Muller sample of
 * the double path. Successive `randn` calls continue the stream, as torch's global generator does.
 */
export class TorchGenerator {
  private engine: Mt19937
  private cachedNormal: number | null = null

  constructor(seed: Seed = 67280421310721) {
    this.engine = new Mt19937(seed)
  }

  /** `torch.manual_seed(seed)`: restarts the stream and drops the cached sample. */
  manualSeed(seed: Seed): void {
    this.engine = new Mt19937(seed)
    this.cachedNormal = null
  }

  /** The next `n` values of `torch.randn(n)` (float32). */
  randn(n: number): Float32Array {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`randn: n must be an integer ≥ 0, got ${n}`)
    if (n >= 16) return this.normalFill(n)
    const out = new Float32Array(n)
    for (let i = 0; i < n; i++) out[i] = this.normalDouble()
    return out
  }

  /** `normal_fill_AVX2`: all uniforms first, Box–Muller in blocks of 16, a redrawn last block for the tail. */
  private normalFill(n: number): Float32Array {
    const data = new Float32Array(n)
    for (let i = 0; i < n; i++) data[i] = this.uniform24()
    const sinCos: SinCos = { sin: 0, cos: 0 }
    for (let i = 0; i + 16 <= n; i += 16) boxMuller16(data, i, sinCos)
    if (n % 16 !== 0) {
      const start = n - 16
      for (let i = 0; i < 16; i++) data[start + i] = this.uniform24()
      boxMuller16(data, start, sinCos)
    }
    return data
  }

  /** `uniform_real_distribution<float>(0, 1)`: the low 24 bits of one draw. */
  private uniform24(): number {
    return (this.engine.nextUint32() & 0xffffff) * UNIFORM24_SCALE
  }

  /** `uniform_real_distribution<double>(0, 1)` on `random64()`: the low 53 bits of (first draw ≪ 32 | second). */
  private uniform53(): number {
    const high = this.engine.nextUint32()
    const low = this.engine.nextUint32()
    return ((high & 0x1fffff) * 2 ** 32 + low) * UNIFORM53_SCALE
  }

  /** `normal_distribution<double>`: Box–Muller in float64 with libm, caching r·sin θ for the next call. */
  private normalDouble(): number {
    if (this.cachedNormal !== null) {
      const cached = this.cachedNormal
      this.cachedNormal = null
      return cached
    }
    const u1 = this.uniform53()
    const u2 = this.uniform53()
    const radius = Math.sqrt(-2 * Math.log1p(-u2))
    const theta = 2 * Math.PI * u1
    this.cachedNormal = radius * Math.sin(theta)
    return radius * Math.cos(theta)
  }
}

/** `normal_fill_16_AVX2` on data[offset … offset+15]: pairs (j, j+8) become (ρ cos θ, ρ sin θ). */
function boxMuller16(data: Float32Array, offset: number, sinCos: SinCos): void {
  for (let j = offset; j < offset + 8; j++) {
    const radius = f32(Math.sqrt(-2 * log32(f32(1 - data[j]))))
    sincos32(f32(TWO_PI_F32 * data[j + 8]), sinCos)
    data[j] = radius * sinCos.cos
    data[j + 8] = radius * sinCos.sin
  }
}

/** `torch.manual_seed(seed); torch.randn(shape)` (CPU, float32), flattened in memory order. */
export function torchRandn(seed: Seed, shape: readonly number[]): Float32Array {
  let numel = 1
  for (const size of shape) {
    if (!Number.isInteger(size) || size < 0)
      throw new RangeError(`torchRandn: bad shape [${shape.join(', ')}]`)
    numel *= size
  }
  return new TorchGenerator(seed).randn(numel)
}

/** A sampler noise source: successive calls continue one torch CPU stream seeded with `seed`. */
export function createNoiseSource(seed: Seed): NoiseSource {
  const generator = new TorchGenerator(seed)
  return (n) => generator.randn(n)
}
