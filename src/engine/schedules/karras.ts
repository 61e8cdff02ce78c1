/**
 * @module
 */
import { linspace32 } from '../linspace.js'
import { assertSteps, float32WithZero } from './steps.js'

const f32 = Math.fround

/**
 * Karras et al. 2022 (EDM, eq. 5): σ_k = (σ_max^{1/ρ} + k/(n−1)·(σ_min^{1/ρ} − σ_max^{1/ρ}))^ρ, then 0.
 * k-diffusion / ComfyUI `get_sigmas_karras`, float32 like the torch original; n = 1 gives [σ_max, 0].
 */
export function karrasSigmas(n: number, sigmaMin: number, sigmaMax: number, rho = 7): number[] {
  assertSteps(n, 'karrasSigmas')
  const minInvRho = sigmaMin ** (1 / rho)
  const maxInvRho = sigmaMax ** (1 / rho)
  const span = f32(minInvRho - maxInvRho)
  const ramp = linspace32(0, 1, n)
  return float32WithZero(ramp.map((r) => f32(f32(maxInvRho + f32(r * span)) ** f32(rho))))
}
