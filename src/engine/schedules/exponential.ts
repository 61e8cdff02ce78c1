/**
 * @module
 */
import { linspace32 } from '../linspace.js'
import { assertSteps, float32WithZero } from './steps.js'

/**
 * Evenly spaced in log σ from σ_max to σ_min, then 0 (k-diffusion / ComfyUI `get_sigmas_exponential`,
 * float32 like the torch original).
 */
export function exponentialSigmas(n: number, sigmaMin: number, sigmaMax: number): number[] {
  assertSteps(n, 'exponentialSigmas')
  return float32WithZero(linspace32(Math.log(sigmaMax), Math.log(sigmaMin), n).map(Math.exp))
}
