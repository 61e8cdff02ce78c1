/**
 * 32-bit Mersenne Twister (Matsumoto & Nishimura 1998), the engine behind torch's CPU generator
 * (ATen `MT19937RNGEngine.h`) and C++ `std::mt19937`. Integer arithmetic stays in uint32 via `>>> 0` and
 * `Math.imul`, so the stream is identical on every platform.
 * @module
 */

const N = 624
const M = 397
const MATRIX_A = 0x9908b0df
const UPPER_MASK = 0x80000000
const LOWER_MASK = 0x7fffffff

/** A seed as torch accepts it: an integer 0 … 2⁶⁴ − 1, as a number or a bigint. */
export type Seed = number | bigint

/** torch seeds its MT19937 with the seed's low 32 bits only (`seed & 0xffffffff`). */
export function lowSeedBits(seed: Seed): number {
  const value = typeof seed === 'bigint' ? seed : Number.isInteger(seed) ? BigInt(seed) : Number.NaN
  if (typeof value !== 'bigint' || value < 0n || value > 0xffffffffffffffffn) {
    throw new RangeError(`seed must be an integer from 0 to 2^64 − 1, got ${String(seed)}`)
  }
  return Number(value & 0xffffffffn)
}

export class Mt19937 {
  private readonly state = new Uint32Array(N)
  private index = N

  constructor(seed: Seed = 5489) {
    const state = this.state
    state[0] = lowSeedBits(seed)
    for (let j = 1; j < N; j++) {
      const previous = state[j - 1]
      state[j] = (Math.imul(1812433253, previous ^ (previous >>> 30)) + j) >>> 0
    }
  }

  /** The next tempered 32-bit output, as an unsigned integer. */
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
      const y = (state[k] & UPPER_MASK) | (state[(k + 1) % N] & LOWER_MASK)
      state[k] = state[(k + M) % N] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0)
    }
    this.index = 0
  }
}
