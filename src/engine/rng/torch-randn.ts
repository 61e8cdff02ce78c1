/**
 * `torch.manual_seed(seed); torch.randn(shape)` on CPU in float32, bit for bit (spec §8.2; ATen
 * `native/cpu/DistributionTemplates.h` `normal_fill_AVX2` and `core/DistributionsHelper.h`
 * `normal_distribution`). This is the initial noise ComfyUI draws for a job, and the per-step noise of the
 * ancestral and SDE samplers, so the float32 path (n ≥ 16) runs on a bulk kernel: WebAssembly SIMD
 * (`wasm-kernel.ts`) where the runtime has it, else JavaScript (`box-muller.ts`), both bit-identical to the
 * scalar reference in `float32-math.ts`.
 * @module
 */
import type { NoiseSource } from '../types.js'
import { createJsKernel, type NormalKernel } from './box-muller.js'
import { Mt19937, type Seed } from './mt19937.js'
import { createWasmKernel } from './wasm-kernel.js'

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
    if (n >= 16) return normalFill(this.engine, n, defaultKernel())
    const out = new Float32Array(n)
    for (let i = 0; i < n; i++) out[i] = this.normalDouble()
    return out
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

let sharedKernel: NormalKernel | undefined

/** The WebAssembly SIMD kernel where the runtime has it, else the JavaScript one; made once per process. */
function defaultKernel(): NormalKernel {
  sharedKernel ??= createWasmKernel() ?? createJsKernel()
  return sharedKernel
}

/**
 * `normal_fill_AVX2` for n ≥ 16 on the stream of `engine`: all n uniforms first, Box–Muller in blocks of 16, a
 * redrawn last block for the tail. Blocks are independent, so the draws go through the kernel's buffer a
 * chunk at a time, in stream order: the whole blocks, then the n mod 16 draws the tail rule discards, then
 * the 16 draws of the tail block.
 */
export function normalFill(engine: Mt19937, n: number, kernel: NormalKernel): Float32Array {
  if (!Number.isInteger(n) || n < 16) throw new RangeError(`normalFill: n must be an integer ≥ 16, got ${n}`)
  const data = new Float32Array(n)
  const whole = n - (n % 16)
  const chunk = kernel.capacity
  for (let start = 0; start < whole; start += chunk) {
    const count = Math.min(chunk, whole - start)
    kernel.draw(engine, count)
    kernel.run(count)
    data.set(kernel.normals.subarray(0, count), start)
  }
  if (whole !== n) {
    kernel.draw(engine, n - whole)
    kernel.draw(engine, 16)
    kernel.run(16)
    data.set(kernel.normals.subarray(0, 16), n - 16)
  }
  return data
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
