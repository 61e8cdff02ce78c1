/**
 * @module
 */
import type { ModelSampling } from '../types.js'
import { assertSteps } from './steps.js'

/**
 * ComfyUI `ddim_scheduler` (the DDIM "uniform" timestep grid, Song et al. 2021): table entries 1, 1 + c,
 * 1 + 2c, … below M with c = max(⌊M/N⌋, 1), reversed, then 0. Kept exactly, quirks included: it does not
 * start at σ_max, and it yields more than N steps when M mod N is large (SD, N = 7 → 8 steps). When
 * sigmas[1] is ≈ 0 ComfyUI picks with N + 1 and appends no 0.
 */
export function ddimUniformSigmas(sampling: ModelSampling, steps: number): number[] {
  assertSteps(steps, 'ddimUniformSigmas')
  const table = sampling.sigmas
  const startsAtZero = Math.abs(table[1]) <= 1e-5
  const stride = Math.max(Math.floor(table.length / (startsAtZero ? steps + 1 : steps)), 1)
  const picked: number[] = []
  for (let index = 1; index < table.length; index += stride) picked.push(Math.fround(table[index]))
  picked.reverse()
  if (!startsAtZero) picked.push(0)
  return picked
}
