/**
 * DPM-Solver single steps of orders 1–3 (Lu et al. 2022, "DPM-Solver", Algorithms 1 and 2 with r₁ = ½ or ⅓,
 * r₂ = ⅔) in t = −log σ on the noise prediction ε = (x − D)/σ, as in k-diffusion's `DPMSolver` class. Used by
 * `dpm_fast` and `dpm_adaptive`. Model evaluations are cached within one step, so the order-2 and order-3
 * steps of an embedded pair share their evaluations.
 * @module
 */
import type { Denoiser } from '../types.js'
import type { VectorSpace } from '../vector-ops.js'
import { evaluate, halfLogSnr, sigmaFromHalfLogSnr } from './common.js'

/** σ(t) = e^{−t} and t(σ) = −log σ: DPM-Solver's time is the VE half-log-SNR. */
const sigmaOf = (t: number) => sigmaFromHalfLogSnr(t, false)

export class DpmSolverSteps {
  /** ε at the step start, at s₁ = t + r₁h and at s₂ = t + r₂h. */
  readonly eps: Float32Array
  readonly epsR1: Float32Array
  readonly epsR2: Float32Array
  readonly #u: Float32Array
  #cached = { eps: false, epsR1: false, epsR2: false }
  /** The latest denoised estimate, for progress reports (owned by the denoiser, read-only). */
  latest: Float32Array | null = null

  /** Takes {@link VECTORS} vectors of `v`. */
  constructor(
    readonly denoise: Denoiser,
    readonly v: VectorSpace,
  ) {
    this.eps = v.vector()
    this.epsR1 = v.vector()
    this.epsR2 = v.vector()
    this.#u = v.vector()
  }

  static readonly VECTORS = 4

  /** Forgets the cached evaluations: call at the start of every step. */
  newStep(): void {
    this.#cached = { eps: false, epsR1: false, epsR2: false }
  }

  /** ε(x, t) at the step start (one model call per step, however many solvers use it). */
  async startEps(x: Float32Array, t: number): Promise<void> {
    if (this.#cached.eps) return
    this.#cached.eps = true
    await this.#evalEps(x, t, this.eps)
  }

  async #evalEps(x: Float32Array, t: number, out: Float32Array): Promise<void> {
    const sigma = sigmaOf(t)
    const denoised = await evaluate(this.denoise, x, sigma)
    // ε = (x − D)/σ
    this.v.combine2(out, 1 / sigma, x, -1 / sigma, denoised)
    this.latest = denoised
  }

  /** First order (DDIM-like): x' = x − σ(t')·expm1(h)·ε. */
  async step1(x: Float32Array, t: number, tNext: number, out: Float32Array): Promise<void> {
    await this.startEps(x, t)
    const c = sigmaOf(tNext) * Math.expm1(tNext - t)
    this.v.combine2(out, 1, x, -c, this.eps)
  }

  /** DPM-Solver-2 with intermediate point s₁ = t + r₁h. */
  async step2(x: Float32Array, t: number, tNext: number, r1: number, out: Float32Array): Promise<void> {
    await this.startEps(x, t)
    const h = tNext - t
    await this.#ensureR1(x, t, h, r1)
    const c = sigmaOf(tNext) * Math.expm1(h)
    const c1 = (sigmaOf(tNext) / (2 * r1)) * Math.expm1(h)
    // x' = x − c·ε − c₁·(ε₁ − ε)
    this.v.combine3(out, 1, x, c1 - c, this.eps, -c1, this.epsR1)
  }

  /** DPM-Solver-3 with r₁ = ⅓, r₂ = ⅔. */
  async step3(x: Float32Array, t: number, tNext: number, out: Float32Array): Promise<void> {
    const r1 = 1 / 3
    const r2 = 2 / 3
    await this.startEps(x, t)
    const h = tNext - t
    await this.#ensureR1(x, t, h, r1)
    const { eps, epsR1, epsR2 } = this
    if (!this.#cached.epsR2) {
      const s2 = t + r2 * h
      const a = sigmaOf(s2) * Math.expm1(r2 * h)
      const b = sigmaOf(s2) * (r2 / r1) * (Math.expm1(r2 * h) / (r2 * h) - 1)
      // u₂ = x − a·ε − b·(ε₁ − ε)
      const u = this.v.combine3(this.#u, 1, x, b - a, eps, -b, epsR1)
      await this.#evalEps(u, s2, epsR2)
      this.#cached.epsR2 = true
    }
    const c = sigmaOf(tNext) * Math.expm1(h)
    const c2 = (sigmaOf(tNext) / r2) * (Math.expm1(h) / h - 1)
    // x' = x − c·ε − c₂·(ε₂ − ε)
    this.v.combine3(out, 1, x, c2 - c, eps, -c2, epsR2)
  }

  async #ensureR1(x: Float32Array, t: number, h: number, r1: number): Promise<void> {
    if (this.#cached.epsR1) return
    const s1 = t + r1 * h
    const a = sigmaOf(s1) * Math.expm1(r1 * h)
    // u₁ = x − a·ε
    const u = this.v.combine2(this.#u, 1, x, -a, this.eps)
    await this.#evalEps(u, s1, this.epsR1)
    this.#cached.epsR1 = true
  }
}

export const timeOf = (sigma: number) => halfLogSnr(sigma, false)
export { sigmaOf }
