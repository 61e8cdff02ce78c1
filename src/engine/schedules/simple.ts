/**
 * @module
 */
import type { ModelSampling } from '../types.js'
import { assertSteps, float32WithZero } from './steps.js'

/**
 * ComfyUI `simple_scheduler`: evenly spaced table indices from the top, σ_k = sigmas[M − 1 − ⌊k·M/N⌋], then 0.
 * On flow tables (N dividing M) this is shift(1 − k/N), diffusers' `linspace(1, 1/N, N)` + shift.
 */
export function simpleSigmas(sampling: ModelSampling, steps: number): number[] {
  assertSteps(steps, 'simpleSigmas')
  const table = sampling.sigmas
  const stride = table.length / steps
  const sigmas: number[] = []
  for (let k = 0; k < steps; k++) sigmas.push(table[table.length - 1 - Math.trunc(k * stride)])
  return float32WithZero(sigmas)
}
