/**
 * UniPC multistep predictor–corrector, ComfyUI `comfy/extra_samplers/uni_pc.py` (`uni_pc`, `uni_pc_bh2`).
 * @module
 */

import type { Denoiser } from '../types.js'
import { VectorSpace } from '../vector-ops.js'
import { evaluate, type SamplerOptions } from './common.js'

export type UniPcVariant = 'bh1' | 'bh2'

/** ComfyUI replaces a final σ = 0 by 0.001 (in place, so the model sampling's inverse scaling sees it too). */
const FINAL_SIGMA = 0.001

const f = Math.fround

/** The last σ as ComfyUI's UniPC leaves it: `sample()` passes it to `inverseNoiseScaling`. */
export function uniPcLastSigma(sigmas: ArrayLike<number>): number {
  const last = sigmas[sigmas.length - 1]
  return last === 0 ? FINAL_SIGMA : last
}

/**
 * UniPC (Zhao et al. 2023, "UniPC: A Unified Predictor-Corrector Framework for Fast Sampling of Diffusion
 * Models", Algorithms 2–3) in data-prediction mode with B(h) = h (`bh1`) or B(h) = e^h − 1 (`bh2`), order
 * min(3, N − 1) with lower-order warm-up and final steps. ComfyUI runs it in the VP view of the VE σ
 * (α = 1/√(1+σ²), λ = −log σ); the state is kept here in the VE frame, which is the same update divided by α,
 * so the model input needs no rescaling. Each step predicts, evaluates the model once at the new point and
 * corrects with that evaluation; the last step is predictor only. N model calls, no noise. ComfyUI applies the
 * same VE formulas to flow models. It fails on a one-step schedule; so does this (RangeError).
 */
export async function sampleUniPc(
  variant: UniPcVariant,
  denoise: Denoiser,
  input: Float32Array,
  sigmas: Float64Array,
  options: SamplerOptions,
): Promise<Float32Array> {
  const steps = sigmas.length - 1
  if (steps < 2) throw new RangeError(`uni_pc needs at least 2 steps, got ${steps}`)
  const ts = sigmas.slice()
  ts[steps] = uniPcLastSigma(sigmas)
  const order = Math.min(3, steps - 1)
  // x, the corrector's output, the prediction, the incoming estimate and up to `order` + 1 stored ones
  const v = new VectorSpace(input.length, 5 + order)
  let x = v.copyOf(input)
  let out = v.vector()
  const predicted = v.vector()
  // Newest last; buffers are recycled as the window slides.
  const models: Float32Array[] = [v.copyOf(await evaluate(denoise, x, ts[0]))]
  // Where the next estimate is copied in, once, before the corrector reads it.
  let incoming = v.vector()
  const times: number[] = [ts[0]]
  report(options, 0, sigmas, x, models[0])
  for (let stepIndex = 1; stepIndex < steps; stepIndex++) {
    const targets =
      stepIndex < order ? [stepIndex] : stepIndex === steps - 1 ? [stepIndex, steps] : [stepIndex]
    for (const target of targets) {
      const warmUp = stepIndex < order
      const stepOrder = warmUp ? stepIndex : Math.min(order, steps + 1 - target)
      const useCorrector = target !== steps
      const coefficients = updateCoefficients(variant, times, ts[target], stepOrder, useCorrector)
      const window = models.slice(models.length - stepOrder)
      // x̃ = c_x·x + Σ_k w_k·m_k (predictor)
      if (!useCorrector) {
        v.combine(x, [coefficients.x, ...coefficients.predictor], [x, ...window])
        continue
      }
      v.combine(predicted, [coefficients.x, ...coefficients.predictor], [x, ...window])
      incoming.set(await evaluate(denoise, predicted, ts[target]))
      // x ← c_x·x + Σ_k w'_k·m_k + w'_t·D(x̃) (corrector)
      v.combine(out, [coefficients.x, ...coefficients.corrector], [x, ...window, incoming])
      ;[x, out] = [out, x]
      models.push(incoming)
      incoming = warmUp || models.length <= order ? v.vector() : models.shift()!
      if (!warmUp) times.shift()
      times.push(ts[target])
    }
    report(options, stepIndex, sigmas, x, models[models.length - 1])
  }
  return v.result(x)
}

function report(
  options: SamplerOptions,
  step: number,
  sigmas: Float64Array,
  x: Float32Array,
  denoised: Float32Array,
): void {
  options.step({
    step,
    steps: sigmas.length - 1,
    sigma: sigmas[step],
    sigmaNext: sigmas[step + 1],
    x,
    denoised,
  })
}

interface UpdateCoefficients {
  /** Coefficient of the previous state. */
  readonly x: number
  /** Coefficients of the stored estimates, oldest first (the last one is the newest, m₀). */
  readonly predictor: number[]
  /** Same plus one more for the estimate at the new point. */
  readonly corrector: number[]
}

/**
 * ComfyUI's `SigmaConvert` noise schedule (VP view of a VE σ) evaluated the way ComfyUI evaluates it: in
 * float32, through log α = ½·log(1/(σ²+1)). The float32 cancellation in 1 − α² matters at the final σ = 0.001
 * (λ comes out 6.9315 instead of 6.9078), so it is reproduced rather than computed exactly.
 */
export const comfyVpSchedule = {
  logAlpha: (sigma: number) => f(0.5 * f(Math.log(f(1 / f(f(f(sigma) * f(sigma)) + 1))))),
  alpha: (sigma: number) => f(Math.exp(comfyVpSchedule.logAlpha(sigma))),
  std: (sigma: number) => f(Math.sqrt(oneMinusAlphaSquared(sigma))),
  lambda: (sigma: number) =>
    f(comfyVpSchedule.logAlpha(sigma) - f(0.5 * f(Math.log(oneMinusAlphaSquared(sigma))))),
}

function oneMinusAlphaSquared(sigma: number): number {
  return f(1 - f(Math.exp(f(2 * comfyVpSchedule.logAlpha(sigma)))))
}

/**
 * The B(h) update of `multistep_uni_pc_bh_update` (data prediction) as weights on the stored estimates, in
 * the VE frame (the VP update divided by α_t): x_t = (σ_t/σ₀)(α₀/α_t)x − (e^{−h} − 1)m₀ − B(h)·Σ ρ_k D1_k with
 * D1_k = (m_k − m₀)/r_k. Scalars follow ComfyUI's float32 evaluation; the b recurrence runs in float64, as there.
 */
export function updateCoefficients(
  variant: UniPcVariant,
  times: readonly number[],
  t: number,
  order: number,
  useCorrector: boolean,
): UpdateCoefficients {
  const vp = comfyVpSchedule
  const tPrev0 = times[times.length - 1]
  const lambdaPrev0 = vp.lambda(tPrev0)
  const h = f(vp.lambda(t) - lambdaPrev0)
  const rks: number[] = []
  for (let i = 1; i < order; i++) rks.push(f(f(vp.lambda(times[times.length - 1 - i]) - lambdaPrev0) / h))
  rks.push(1)
  const hh = -h
  const hPhi1 = f(Math.expm1(hh))
  const bH = variant === 'bh1' ? hh : hPhi1
  const bH64 = variant === 'bh1' ? hh : Math.expm1(hh)
  const rows: number[][] = []
  const b: number[] = []
  let hPhiK = Math.expm1(hh) / hh - 1
  let factorial = 1
  for (let i = 1; i <= order; i++) {
    rows.push(rks.map((r) => r ** (i - 1)))
    b.push(f((hPhiK * factorial) / bH64))
    factorial *= i + 1
    hPhiK = hPhiK / hh - 1 / factorial
  }
  const rhosPredictor =
    order === 1 ? [] : order === 2 ? [0.5] : solve(leading(rows, order - 1), b.slice(0, -1))
  const rhosCorrector = useCorrector ? (order === 1 ? [0.5] : solve(rows, b)) : []

  // Weights on [m_{order−1}, …, m_1, m_0] (oldest first) from Σ_k ρ_k (m_k − m₀)/r_k.
  const weights = (rhos: number[], extra: number): number[] => {
    const w = new Array<number>(order).fill(0)
    w[order - 1] = -hPhi1
    for (let k = 0; k < order - 1 && k < rhos.length; k++) {
      const c = (bH * rhos[k]) / rks[k]
      w[order - 2 - k] -= c
      w[order - 1] += c
    }
    w[order - 1] += extra
    return w
  }
  const predictor = weights(rhosPredictor, 0)
  let corrector: number[] = []
  if (useCorrector) {
    const last = rhosCorrector[rhosCorrector.length - 1]
    corrector = [...weights(rhosCorrector, bH * last), -bH * last]
  }
  const stateScale = (f(vp.std(t) / vp.std(tPrev0)) * vp.alpha(tPrev0)) / vp.alpha(t)
  return { x: stateScale, predictor, corrector }
}

function leading(rows: number[][], n: number): number[][] {
  return rows.slice(0, n).map((row) => row.slice(0, n))
}

/** Solves A·y = b by Gaussian elimination with partial pivoting (at most 3×3 here). */
export function solve(a: number[][], b: number[]): number[] {
  const n = b.length
  const m = a.map((row, i) => [...row, b[i]])
  for (let col = 0; col < n; col++) {
    let pivot = col
    for (let r = col + 1; r < n; r++) if (Math.abs(m[r][col]) > Math.abs(m[pivot][col])) pivot = r
    ;[m[col], m[pivot]] = [m[pivot], m[col]]
    for (let r = col + 1; r < n; r++) {
      const f = m[r][col] / m[col][col]
      for (let c = col; c <= n; c++) m[r][c] -= f * m[col][c]
    }
  }
  const y = new Array<number>(n).fill(0)
  for (let r = n - 1; r >= 0; r--) {
    let sum = m[r][n]
    for (let c = r + 1; c < n; c++) sum -= m[r][c] * y[c]
    y[r] = sum / m[r][r]
  }
  return y
}
