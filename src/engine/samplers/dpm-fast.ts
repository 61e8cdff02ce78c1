/**
 * DPM-Solver-fast: fixed-step DPM-Solver over [σ_min, σ_max] with a model-call budget, ComfyUI `dpm_fast`.
 * @module
 */
import type { Denoiser } from '../types.js'
import { VectorSpace } from '../vector-ops.js'
import { ancestralStep, type SamplerOptions } from './common.js'
import { DpmSolverSteps, sigmaOf, timeOf } from './dpm-solver.js'

/**
 * The orders of the DPM-Solver-fast plan for `nfe` model calls (Lu et al. 2022, §3.4): as many third-order
 * steps as fit, then a second- and/or first-order step, for exactly `nfe` evaluations.
 */
export function dpmFastOrders(nfe: number): number[] {
  const m = Math.floor(nfe / 3) + 1
  if (nfe % 3 === 0) return [...Array(m - 2).fill(3), 2, 1]
  return [...Array(m - 1).fill(3), nfe % 3]
}

/**
 * ComfyUI's `dpm_fast`: uses only the ends of the schedule — σ_max = sigmas[0] and σ_min = the last non-zero σ
 * — and spends sigmas.length − 1 model calls on steps uniform in t = −log σ. It stops at σ_min: there is no
 * final denoise to 0. η (default 0) adds ancestral noise per step.
 */
export async function sampleDpmFast(
  denoise: Denoiser,
  input: Float32Array,
  sigmas: Float64Array,
  options: SamplerOptions,
): Promise<Float32Array> {
  const eta = options.eta ?? 0
  const last = sigmas[sigmas.length - 1]
  const sigmaMin = last === 0 ? sigmas[sigmas.length - 2] : last
  const sigmaMax = sigmas[0]
  if (!(sigmaMin > 0 && sigmaMax > 0)) throw new RangeError('dpm_fast: sigma_min and sigma_max must not be 0')
  const nfe = sigmas.length - 1
  const tStart = timeOf(sigmaMax)
  const tEnd = timeOf(sigmaMin)
  if (eta && !(tEnd > tStart)) throw new RangeError('dpm_fast: eta must be 0 for reverse sampling')
  const orders = dpmFastOrders(nfe)
  const m = orders.length
  const ts = Array.from({ length: m + 1 }, (_, i) => tStart + ((tEnd - tStart) * i) / m)
  const v = new VectorSpace(input.length, DpmSolverSteps.VECTORS + 2)
  const solver = new DpmSolverSteps(denoise, v)
  let x = v.copyOf(input)
  let out = v.vector()
  for (let i = 0; i < m; i++) {
    solver.newStep()
    const t = ts[i]
    const tNext = ts[i + 1]
    let tTarget = tNext
    let sigmaUp = 0
    if (eta) {
      const { sigmaDown } = ancestralStep(sigmaOf(t), sigmaOf(tNext), eta)
      tTarget = Math.min(tEnd, timeOf(sigmaDown))
      sigmaUp = Math.sqrt(sigmaOf(tNext) ** 2 - sigmaOf(tTarget) ** 2)
    }
    await solver.startEps(x, t)
    if (orders[i] === 1) await solver.step1(x, t, tTarget, out)
    else if (orders[i] === 2) await solver.step2(x, t, tTarget, 1 / 2, out)
    else await solver.step3(x, t, tTarget, out)
    ;[x, out] = [out, x]
    // ComfyUI multiplies a noise draw by σ_up = 0 when η = 0; the draw is skipped here (no effect on x).
    if (eta) {
      v.combine2(x, 1, x, sigmaUp * options.sNoise, options.noise(x.length))
    }
    options.step({
      step: i,
      steps: m,
      sigma: sigmaOf(t),
      sigmaNext: sigmaOf(tNext),
      x,
      denoised: solver.latest!,
    })
  }
  return v.result(x)
}
