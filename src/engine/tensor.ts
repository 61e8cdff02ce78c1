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
