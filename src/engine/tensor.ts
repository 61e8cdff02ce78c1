/**
 * Element-wise helpers over flat Float32Array tensors. Arithmetic happens in float64 per element and is stored
 * as float32, like a float32 torch tensor.
 * @module
 */

/** out[i] = a·x[i] + b·y[i] */
export function axpby(
  a: number,
  x: Float32Array,
  b: number,
  y: Float32Array,
  out = new Float32Array(x.length),
): Float32Array {
  for (let i = 0; i < x.length; i++) out[i] = a * x[i] + b * y[i]
  return out
}

/** out[i] = x[i] + a·y[i] */
export function addScaled(
  x: Float32Array,
  a: number,
  y: Float32Array,
  out = new Float32Array(x.length),
): Float32Array {
  for (let i = 0; i < x.length; i++) out[i] = x[i] + a * y[i]
  return out
}

/** out[i] = a·x[i] */
export function scale(a: number, x: Float32Array, out = new Float32Array(x.length)): Float32Array {
  for (let i = 0; i < x.length; i++) out[i] = a * x[i]
  return out
}

/** The probability-flow ODE derivative d = (x − D)/σ (k-diffusion `to_d`). */
export function derivative(
  x: Float32Array,
  sigma: number,
  denoised: Float32Array,
  out = new Float32Array(x.length),
): Float32Array {
  for (let i = 0; i < x.length; i++) out[i] = (x[i] - denoised[i]) / sigma
  return out
}

export function assertSameLength(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  if (a.length !== b.length) throw new RangeError(`${what}: expected ${a.length} elements, got ${b.length}`)
}

/**
 * out[i] = a·x[i] + Σ_j w[j]·terms[j][i] in one pass over memory, with a loop per term count (1–5) so that no
 * pass reads an array it does not need. Samplers use it for their multistep combinations.
 */
export function linearCombination(
  out: Float32Array,
  a: number,
  x: Float32Array,
  w: readonly number[],
  terms: readonly Float32Array[],
): Float32Array {
  if (w.length !== terms.length)
    throw new RangeError(`linearCombination: ${w.length} weights, ${terms.length} terms`)
  const n = out.length
  const [w0, w1, w2, w3, w4] = w
  const [t0, t1, t2, t3, t4] = terms
  switch (terms.length) {
    case 0:
      for (let i = 0; i < n; i++) out[i] = a * x[i]
      break
    case 1:
      for (let i = 0; i < n; i++) out[i] = a * x[i] + w0 * t0[i]
      break
    case 2:
      for (let i = 0; i < n; i++) out[i] = a * x[i] + w0 * t0[i] + w1 * t1[i]
      break
    case 3:
      for (let i = 0; i < n; i++) out[i] = a * x[i] + w0 * t0[i] + w1 * t1[i] + w2 * t2[i]
      break
    case 4:
      for (let i = 0; i < n; i++) out[i] = a * x[i] + w0 * t0[i] + w1 * t1[i] + w2 * t2[i] + w3 * t3[i]
      break
    case 5:
      for (let i = 0; i < n; i++) {
        out[i] = a * x[i] + w0 * t0[i] + w1 * t1[i] + w2 * t2[i] + w3 * t3[i] + w4 * t4[i]
      }
      break
    default:
      throw new RangeError(`linearCombination: at most 5 terms, got ${terms.length}`)
  }
  return out
}
