/**
 * @module
 */
import { linspace32 } from '../linspace.js'
import type { ModelSampling } from '../types.js'
import { assertSteps } from './steps.js'

/**
 * ComfyUI `normal_scheduler`: N timesteps evenly spaced from t(σ_max) to t(σ_min), mapped back with
 * `sigma(t)`, then 0 (k-diffusion `DiscreteSchedule.get_sigmas`). For SD this is `linspace(999, 0, N)` and
 * ends on σ_min. If sigma(t(σ_min)) is ≈ 0 ComfyUI takes N + 1 points and appends no 0. On shifted flow
 * models the low end is shifted twice (ComfyUI's timestep/sigma are not inverse there); kept as is.
 */
export function normalSigmas(sampling: ModelSampling, steps: number): number[] {
  assertSteps(steps, 'normalSigmas')
  return timestepSpacedSigmas(sampling, steps, false)
}

/**
 * ComfyUI `normal_scheduler(sgm=True)` ("sgm_uniform", as in Stability's sgm code): N + 1 evenly spaced
 * timesteps with the last one dropped, mapped with `sigma(t)`, then 0. Never ends on σ_min.
 */
export function sgmUniformSigmas(sampling: ModelSampling, steps: number): number[] {
  assertSteps(steps, 'sgmUniformSigmas')
  return timestepSpacedSigmas(sampling, steps, true)
}

function timestepSpacedSigmas(sampling: ModelSampling, steps: number, sgm: boolean): number[] {
  const start = sampling.sigmaToTimestep(sampling.sigmaMax)
  const end = sampling.sigmaToTimestep(sampling.sigmaMin)
  let timesteps: Float32Array
  let appendZero = true
  if (sgm) {
    timesteps = linspace32(start, end, steps + 1).subarray(0, steps)
  } else {
    if (Math.abs(sampling.timestepToSigma(end)) <= 1e-5) {
      steps += 1
      appendZero = false
    }
    timesteps = linspace32(start, end, steps)
  }
  const sigmas = Array.from(timesteps, (t) => Math.fround(sampling.timestepToSigma(t)))
  if (appendZero) sigmas.push(0)
  return sigmas
}
