/**
 * 32-bit Mersenne Twister (Matsumoto & Nishimura 1998), the engine behind torch's CPU generator
 * (ATen `MT19937RNGEngine.h`) and C++ `std::mt19937`. Integer arithmetic stays in uint32 via `>>> 0` and
 * `Math.imul`, so the stream is identical on every platform. The state is regenerated 624 words at a time
 * and `fillLow24` tempers a whole run of outputs in one tight loop, for bulk consumers such as `torch.randn`.
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

  /**
   * Writes the low 24 bits of the next `end − start` outputs into out[start … end): the same draws as
   * `nextUint32() & 0xffffff` (torch's float32 uniforms are these times 2⁻²⁴), without a call per draw.
   */
  fillLow24(out: Int32Array, start: number, end: number): void {
    const state = this.state
    let index = this.index
    let i = start
    while (i < end) {
      if (index >= N) {
        this.twist()
        index = 0
      }
      const stop = Math.min(end, i + N - index)
      for (; i < stop; i++) {
        let y = state[index++]
        y ^= y >>> 11
        y ^= (y << 7) & 0x9d2c5680
        y ^= (y << 15) & 0xefc60000
        y ^= y >>> 18
        out[i] = y & 0xffffff
      }
    }
    this.index = index
  }

  /**
   * Copies the 624 state words into `words` and returns the index of the next word to temper (624: the
   * state is due for a twist). With `restoreState`, lets another implementation of the same recurrence
   * (the WebAssembly kernel) continue the stream.
   */
  saveState(words: Uint32Array): number {
    words.set(this.state)
    return this.index
  }

  /** Takes back a state saved by `saveState` and advanced elsewhere, with the index of its next word. */
  restoreState(words: Uint32Array, index: number): void {
    if (words.length < N || !Number.isInteger(index) || index < 0 || index > N)
      throw new RangeError('restoreState: needs 624 words and an index from 0 to 624')
    this.state.set(words.subarray(0, N))
    this.index = index
  }

  /** Regenerates all 624 words; split at the wrap-around so no index needs a modulo. */
  private twist(): void {
    const state = this.state
    let k = 0
    for (; k < N - M; k++) {
      const y = (state[k] & UPPER_MASK) | (state[k + 1] & LOWER_MASK)
      state[k] = state[k + M] ^ (y >>> 1) ^ (-(y & 1) & MATRIX_A)
    }
    for (; k < N - 1; k++) {
      const y = (state[k] & UPPER_MASK) | (state[k + 1] & LOWER_MASK)
      state[k] = state[k + M - N] ^ (y >>> 1) ^ (-(y & 1) & MATRIX_A)
    }
    const y = (state[N - 1] & UPPER_MASK) | (state[0] & LOWER_MASK)
    state[N - 1] = state[M - 1] ^ (y >>> 1) ^ (-(y & 1) & MATRIX_A)
    this.index = 0
  }
}
