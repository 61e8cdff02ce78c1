/**
 * DPM-Solver-12/23 with adaptive step size, ComfyUI `dpm_adaptive`.
 * @module
 */
import type { Denoiser } from '../types.js'
import { VectorSpace } from '../vector-ops.js'
import { ancestralStep, type SamplerOptions } from './common.js'
import { DpmSolverSteps, sigmaOf, timeOf } from './dpm-solver.js'

/** k-diffusion's defaults for `sample_dpm_adaptive`. */
const ORDER = 3
const RTOL = 0.05
const ATOL = 0.0078
const H_INIT = 0.05
const PID = { p: 0, i: 1, d: 0 }
const ACCEPT_SAFETY = 0.81
const EPS = 1e-8

/**
 * PID step-size controller for ODE solvers (Söderlind 2003, as in k-diffusion `PIDStepSizeController`): scales h
 * by a limited product of inverse error ratios and accepts the step when the factor is at least 0.81.
 */
class StepSizeController {
  readonly #b1: number
  readonly #b2: number
  readonly #b3: number
  #errors: number[] = []

  constructor(
    public h: number,
    order: number,
  ) {
    this.#b1 = (PID.p + PID.i + PID.d) / order
    this.#b2 = -(PID.p + 2 * PID.d) / order
    this.#b3 = PID.d / order
  }

  /** Updates h from the error of the attempted step; true when the step is accepted. */
  propose(error: number): boolean {
    const inverse = 1 / (error + EPS)
    if (this.#errors.length === 0) this.#errors = [inverse, inverse, inverse]
    this.#errors[0] = inverse
    const [e0, e1, e2] = this.#errors
    const raw = e0 ** this.#b1 * e1 ** this.#b2 * e2 ** this.#b3
    const factor = 1 + Math.atan(raw - 1)
    const accept = factor >= ACCEPT_SAFETY
    if (accept) this.#errors = [e0, e0, e1]
    this.h *= factor
    return accept
  }
}

/**
 * ComfyUI's `dpm_adaptive` (Lu et al. 2022, §4 adaptive step size): from σ_max = sigmas[0] to σ_min = the last
 * non-zero σ, an embedded DPM-Solver-2 (r₁ = ⅓) / DPM-Solver-3 pair estimates the local error in a mixed
 * relative/absolute norm and a PID controller picks the next h in t = −log σ. The number of model calls
 * depends on the model (three per attempted step); interior schedule values are ignored and there is no final
 * denoise to 0. Progress is reported once per attempted step, with `steps` an estimate.
 */
export async function sampleDpmAdaptive(
  denoise: Denoiser,
  input: Float32Array,
  sigmas: Float64Array,
  options: SamplerOptions,
): Promise<Float32Array> {
  const eta = options.eta ?? 0
  const last = sigmas[sigmas.length - 1]
  const sigmaMin = last === 0 ? sigmas[sigmas.length - 2] : last
  if (!(sigmaMin > 0 && sigmas[0] > 0))
    throw new RangeError('dpm_adaptive: sigma_min and sigma_max must not be 0')
  const tStart = timeOf(sigmas[0])
  const tEnd = timeOf(sigmaMin)
  const forward = tEnd > tStart
  if (!forward && eta) throw new RangeError('dpm_adaptive: eta must be 0 for reverse sampling')
  const controller = new StepSizeController(forward ? H_INIT : -H_INIT, eta ? 1.5 : ORDER)
  const v = new VectorSpace(input.length, DpmSolverSteps.VECTORS + 4)
  const solver = new DpmSolverSteps(denoise, v)
  let x = v.copyOf(input)
  let xPrevious = v.copyOf(input)
  let xLow = v.vector()
  let xHigh = v.vector()
  let s = tStart
  let attempt = 0
  while (forward ? s < tEnd - 1e-5 : s > tEnd + 1e-5) {
    solver.newStep()
    const sigmaStart = sigmaOf(s)
    const t = forward ? Math.min(tEnd, s + controller.h) : Math.max(tEnd, s + controller.h)
    let tTarget = t
    let sigmaUp = 0
    if (eta) {
      const { sigmaDown } = ancestralStep(sigmaOf(s), sigmaOf(t), eta)
      tTarget = Math.min(tEnd, timeOf(sigmaDown))
      sigmaUp = Math.sqrt(sigmaOf(t) ** 2 - sigmaOf(tTarget) ** 2)
    }
    await solver.step2(x, s, tTarget, 1 / 3, xLow)
    await solver.step3(x, s, tTarget, xHigh)
    const error = v.errorNorm(xLow, xHigh, xPrevious, ATOL, RTOL)
    const accepted = controller.propose(error)
    // A non-finite error (e.g. a NaN from the model) would otherwise retry the same step forever.
    if (!Number.isFinite(controller.h) || controller.h === 0) {
      throw new RangeError(`dpm_adaptive: step size collapsed (error ${error}) at sigma ${sigmaStart}`)
    }
    if (accepted) {
      ;[xPrevious, xLow] = [xLow, xPrevious]
      ;[x, xHigh] = [xHigh, x]
      // ComfyUI multiplies a noise draw by σ_up = 0 when η = 0; the draw is skipped here (no effect on x).
      if (eta) {
        v.combine2(x, 1, x, sigmaUp * options.sNoise, options.noise(x.length))
      }
      s = t
    }
    const remaining = Math.max(0, Math.ceil((tEnd - s) / controller.h))
    options.step({
      step: attempt,
      steps: attempt + 1 + (Number.isFinite(remaining) ? remaining : 0),
      sigma: sigmaStart,
      sigmaNext: sigmaOf(s),
      x,
      denoised: solver.latest!,
    })
    attempt++
  }
  return v.result(x)
}
