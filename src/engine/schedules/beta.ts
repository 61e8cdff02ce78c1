/**
 * @module
 */
import type { ModelSampling } from '../types.js'
import { betaQuantile } from './beta-distribution.js'
import { assertSteps, float32WithZero } from './steps.js'

/**
 * Beta schedule (Lee et al. 2024, "Beta Sampling is All You Need", arXiv 2407.12173; ComfyUI `beta_scheduler`):
 * table indices rint(F⁻¹_{Beta(α,β)}(1 − k/N)·(M − 1)) for k = 0..N−1 (round half to even), a repeated index
 * dropped, σ = sigmas[index], then 0. The de-duplication can make it shorter than N + 1.
 */
export function betaSigmas(sampling: ModelSampling, steps: number, alpha = 0.6, beta = 0.6): number[] {
  assertSteps(steps, 'betaSigmas')
  const table = sampling.sigmas
  const lastIndex = table.length - 1
  const spacing = 1 / steps
  const sigmas: number[] = []
  let previous = -1
  for (let k = 0; k < steps; k++) {
    const index = roundHalfEven(betaQuantile(1 - k * spacing, alpha, beta) * lastIndex)
    if (index !== previous) sigmas.push(table[index])
    previous = index
  }
  return float32WithZero(sigmas)
}

/** numpy `rint`: round to nearest, ties to even. */
function roundHalfEven(x: number): number {
  const floor = Math.floor(x)
  const fraction = x - floor
  if (fraction > 0.5) return floor + 1
  if (fraction < 0.5) return floor
  return floor % 2 === 0 ? floor : floor + 1
}
