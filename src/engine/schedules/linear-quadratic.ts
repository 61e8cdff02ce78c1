/**
 * @module
 */
import type { ModelSampling } from '../types.js'
import { assertSteps } from './steps.js'

/**
 * Linear-then-quadratic schedule of Genmo's Mochi (ComfyUI `linear_quadratic_schedule`): the first ⌊N/2⌋
 * steps lower the noise linearly by `thresholdNoise` in total, the rest follow a quadratic that reaches 0,
 * all scaled by σ_max. Built for flow models (σ_max = 1). Computed in float64, rounded to float32 and then
 * multiplied by σ_max in float32, as ComfyUI does.
 */
export function linearQuadraticSigmas(
  sampling: ModelSampling,
  steps: number,
  thresholdNoise = 0.025,
  linearSteps = Math.floor(steps / 2),
): number[] {
  assertSteps(steps, 'linearQuadraticSigmas')
  let schedule: number[]
  if (steps === 1) {
    schedule = [1, 0]
  } else {
    const quadraticSteps = steps - linearSteps
    const stepDifference = linearSteps - thresholdNoise * steps
    const quadraticCoef = stepDifference / (linearSteps * quadraticSteps ** 2)
    const linearCoef = thresholdNoise / linearSteps - (2 * stepDifference) / quadraticSteps ** 2
    const constant = quadraticCoef * linearSteps ** 2
    const noiseLevels: number[] = []
    for (let i = 0; i < linearSteps; i++) noiseLevels.push((i * thresholdNoise) / linearSteps)
    for (let i = linearSteps; i < steps; i++)
      noiseLevels.push(quadraticCoef * i ** 2 + linearCoef * i + constant)
    noiseLevels.push(1)
    schedule = noiseLevels.map((level) => 1 - level)
  }
  const sigmaMax = Math.fround(sampling.sigmaMax)
  return schedule.map((sigma) => Math.fround(Math.fround(sigma) * sigmaMax))
}
