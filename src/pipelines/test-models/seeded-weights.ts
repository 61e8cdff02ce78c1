/**
 * Deterministic random weights for test models. Each tensor draws from its own stream keyed by (seed, name),
 * so adding a tensor to one graph never changes the weights of another.
 * @module
 */

/** FNV-1a over the UTF-16 code units of a string, mixed with a seed. */
function hashKey(seed: number, key: string): number {
  let h = (0x811c9dc5 ^ seed) >>> 0
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i)
    h = Math.imul(h, 0x01000193) >>> 0
  }
  return h
}

/** mulberry32: a small 32-bit generator, plenty for weights (not for the diffusion noise). */
function mulberry32(state: number): () => number {
  let s = state >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export class SeededWeights {
  readonly #seed: number

  constructor(seed: number) {
    this.#seed = seed >>> 0
  }

  /** `count` values uniform in [−scale, scale]. */
  uniform(key: string, count: number, scale: number): Float32Array {
    const next = mulberry32(hashKey(this.#seed, key))
    const out = new Float32Array(count)
    for (let i = 0; i < count; i++) out[i] = (next() * 2 - 1) * scale
    return out
  }

  /** A fan-in scaled weight matrix (uniform with variance 1/fanIn, as in common initializers). */
  matrix(key: string, fanIn: number, fanOut: number, gain = 1): Float32Array {
    return this.uniform(key, fanIn * fanOut, gain * Math.sqrt(3 / fanIn))
  }
}
