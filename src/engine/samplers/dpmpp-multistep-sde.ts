/**
 * DPM-Solver++(2M) SDE (midpoint and Heun flavours) and DPM-Solver++(3M) SDE, ComfyUI `sample_dpmpp_2m_sde`
 * and `sample_dpmpp_3m_sde`.
 * @module
 */

import type { Denoiser } from '../types.js'
import { VectorSpace } from '../vector-ops.js'
import {
  endStep,
  evaluate,
  halfLogSnr,
  offsetFirstSigmaForSnr,
  type SamplerOptions,
  signalScale,
} from './common.js'

type Correction = 'midpoint' | 'heun' | 'third-order'

/**
 * The shared loop, in the model's half-log-SNR λ (flow: log((1−σ)/σ) with a first σ ≥ 1 offset). Each step:
 * x ← (σ'/σ)e^{−hη}x + α'(1 − e^{−h(1+η)})D, a multistep correction from the previous estimates, then
 * x += σ'·√(1 − e^{−2hη})·s_noise·n when η > 0 and s_noise > 0. The step to σ' = 0 returns D.
 */
async function multistepSde(
  correction: Correction,
  denoise: Denoiser,
  input: Float32Array,
  schedule: Float64Array,
  options: SamplerOptions,
): Promise<Float32Array> {
  const eta = options.eta ?? 1
  const { flow, sNoise } = options
  const sigmas = offsetFirstSigmaForSnr(schedule, options)
  const v = new VectorSpace(input.length, 4)
  const x = v.copyOf(input)
  // D is copied in once and kept as the next steps' D_prev and D_older.
  let current = v.vector()
  let older = v.vector() // D from two steps back (3M only)
  let previous = v.vector()
  let hPrevious: number | null = null
  let hOlder: number | null = null
  let h: number | null = null
  for (let i = 0; i < sigmas.length - 1; i++) {
    const sigma = sigmas[i]
    const sigmaNext = sigmas[i + 1]
    const denoised = await evaluate(denoise, x, sigma)
    current.set(denoised)
    if (sigmaNext === 0) {
      x.set(denoised)
    } else {
      h = halfLogSnr(sigmaNext, flow) - halfLogSnr(sigma, flow)
      const hEta = h * (eta + 1)
      const alphaNext = signalScale(sigmaNext, flow)
      const a = (sigmaNext / sigma) * Math.exp(-h * eta)
      const b = -alphaNext * Math.expm1(-hEta)
      const phi2 = Math.expm1(-hEta) / hEta + 1
      // x ← a·x + wD·D + wP·D_prev + wO·D_older, with the correction folded into the weights.
      let wD = b
      let wP = 0
      let wO = 0
      if (correction === 'third-order' && hOlder !== null && hPrevious !== null) {
        const r0 = hPrevious / h
        const r1 = hOlder / h
        const phi3 = phi2 / hEta - 0.5
        // d1 = (1/r0 + 1/(r0+r1))·(D − D_prev) − (r0/(r1(r0+r1)))·(D_prev − D_older)
        // d2 = ((D − D_prev)/r0 − (D_prev − D_older)/r1)/(r0 + r1)
        const p = 1 / r0 + 1 / (r0 + r1)
        const q = r0 / (r1 * (r0 + r1))
        const u = 1 / (r0 * (r0 + r1))
        const v = 1 / (r1 * (r0 + r1))
        const cD1 = alphaNext * phi2
        const cD2 = -alphaNext * phi3
        // coefficient of (D − D_prev) and of (D_prev − D_older)
        const e1 = cD1 * p + cD2 * u
        const e2 = -cD1 * q - cD2 * v
        wD += e1
        wP += -e1 + e2
        wO += -e2
      } else if (hPrevious !== null) {
        const r = hPrevious / h
        const c =
          correction === 'midpoint'
            ? 0.5 * alphaNext * -Math.expm1(-hEta) * (1 / r)
            : correction === 'heun'
              ? alphaNext * (-Math.expm1(-hEta) / -hEta + 1) * (1 / r)
              : alphaNext * phi2 * (1 / r)
        wD += c
        wP -= c
      }
      // Only the terms in use are read: the first step has no history, the 2M forms no D_older.
      const weights = [wD, wP, wO].slice(0, hPrevious === null ? 1 : correction === 'third-order' ? 3 : 2)
      const terms = [current, previous, older].slice(0, weights.length)
      if (eta > 0 && sNoise > 0) {
        weights.push(sigmaNext * Math.sqrt(-Math.expm1(-2 * h * eta)) * sNoise)
        terms.push(options.noise(x.length))
      }
      v.combine(x, [a, ...weights], [x, ...terms])
    }
    // Rotate the history: the oldest buffer takes the next estimate.
    ;[older, previous, current] = [previous, current, older]
    hOlder = hPrevious
    hPrevious = h
    endStep(options, i, schedule, x, denoised)
  }
  return v.result(x)
}

/** DPM-Solver++(2M) SDE, midpoint correction (Lu et al. 2022; ComfyUI default `dpmpp_2m_sde`). */
export function sampleDpmppTwoMSde(
  denoise: Denoiser,
  x: Float32Array,
  sigmas: Float64Array,
  options: SamplerOptions,
): Promise<Float32Array> {
  return multistepSde('midpoint', denoise, x, sigmas, options)
}

/** DPM-Solver++(2M) SDE with the Heun-type correction (`dpmpp_2m_sde_heun`). */
export function sampleDpmppTwoMSdeHeun(
  denoise: Denoiser,
  x: Float32Array,
  sigmas: Float64Array,
  options: SamplerOptions,
): Promise<Float32Array> {
  return multistepSde('heun', denoise, x, sigmas, options)
}

/** DPM-Solver++(3M) SDE: third-order correction once two previous estimates exist (`dpmpp_3m_sde`). */
export function sampleDpmppThreeMSde(
  denoise: Denoiser,
  x: Float32Array,
  sigmas: Float64Array,
  options: SamplerOptions,
): Promise<Float32Array> {
  return multistepSde('third-order', denoise, x, sigmas, options)
}
