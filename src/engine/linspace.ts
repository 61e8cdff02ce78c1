/**
 * `torch.linspace` as PyTorch's CPU kernel evaluates it, in float64 or float32. The two halves are computed
 * from opposite ends (`start + step·i` below the midpoint, `end − step·(n−1−i)` from it on), so both
 * endpoints are exact; reproducing that keeps schedules built on it identical to ComfyUI's.
 * @module
 */

/** `torch.linspace(start, end, n, dtype=float64)`. */
export function linspace64(start: number, end: number, n: number): Float64Array {
  const out = new Float64Array(n)
  if (n === 1) {
    out[0] = start
    return out
  }
  const step = (end - start) / (n - 1)
  const halfway = Math.floor(n / 2)
  for (let i = 0; i < n; i++) out[i] = i < halfway ? start + step * i : end - step * (n - 1 - i)
  return out
}

/** `torch.linspace(start, end, n)` with the default float32 dtype: every operation rounds to float32. */
export function linspace32(start: number, end: number, n: number): Float32Array {
  const f32 = Math.fround
  const out = new Float32Array(n)
  const first = f32(start)
  const last = f32(end)
  if (n === 1) {
    out[0] = first
    return out
  }
  const step = f32(f32(last - first) / (n - 1))
  const halfway = Math.floor(n / 2)
  for (let i = 0; i < n; i++) {
    out[i] = i < halfway ? f32(first + f32(step * i)) : f32(last - f32(step * (n - 1 - i)))
  }
  return out
}
