/**
 * @module
 */
import { assertSteps, float32WithZero } from './steps.js'

const f32 = Math.fround

/**
 * KL-optimal schedule (Align Your Steps, Sabour et al. 2024; ComfyUI `kl_optimal_scheduler` from A1111
 * PR 15608): σ_k = tan(w_k·atan σ_min + (1 − w_k)·atan σ_max) with w_k = k/(n−1), then 0. Float32 like the
 * torch original. ComfyUI divides by zero at n = 1 and returns [NaN, 0]; here n = 1 gives [σ_max, 0].
 */
export function klOptimalSigmas(n: number, sigmaMin: number, sigmaMax: number): number[] {
  assertSteps(n, 'klOptimalSigmas')
  if (n === 1) return float32WithZero([sigmaMax])
  const atanMin = f32(Math.atan(sigmaMin))
  const atanMax = f32(Math.atan(sigmaMax))
  const sigmas: number[] = []
  for (let k = 0; k < n; k++) {
    const w = f32(k / (n - 1))
    sigmas.push(Math.tan(f32(f32(w * atanMin) + f32(f32(1 - w) * atanMax))))
  }
  return float32WithZero(sigmas)
}
