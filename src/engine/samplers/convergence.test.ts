/**
 * Analytic checks: data x0 ~ N(0, s²) has the exact denoiser D(x, σ) = x·s²/(s² + σ²) and the exact
 * probability-flow solution x(σ) = x_T·√(s² + σ²)/√(s² + σ_T²). Deterministic samplers must converge to it at
 * their known orders. The schedules stop at σ_min > 0: a final jump to 0 lands exactly on D for an affine D and
 * would hide the order.
 */
import { describe, expect, it } from 'vitest'
import { sample } from '../sample.js'
import type { Denoiser } from '../types.js'

const S2 = 1
const SIGMA_MAX = 14.6
const SIGMA_MIN = 0.05
const X_T = 10

const exactDenoiser: Denoiser = (x, sigma) => x.map((v) => (v * S2) / (S2 + sigma ** 2))

/** N steps uniform in log σ from σ_max to σ_min (N + 1 values, no final 0). */
function exponentialSchedule(steps: number): number[] {
  return Array.from({ length: steps + 1 }, (_, i) =>
    Math.exp(Math.log(SIGMA_MAX) + (i / steps) * (Math.log(SIGMA_MIN) - Math.log(SIGMA_MAX))),
  )
}

async function relativeError(sampler: string, steps: number, eta?: number): Promise<number> {
  const [x] = await sample(sampler, exactDenoiser, new Float32Array([X_T]), exponentialSchedule(steps), {
    eta,
  })
  const exact = (X_T * Math.sqrt(S2 + SIGMA_MIN ** 2)) / Math.sqrt(S2 + SIGMA_MAX ** 2)
  return Math.abs(x - exact) / exact
}

/** Observed order from the errors at 12 and 24 steps. */
async function observedOrder(sampler: string, eta?: number): Promise<number> {
  return Math.log2((await relativeError(sampler, 12, eta)) / (await relativeError(sampler, 24, eta)))
}

describe('convergence to the exact PF-ODE solution (Gaussian data)', () => {
  it('euler is first order', async () => {
    const order = await observedOrder('euler')
    expect(order).toBeGreaterThanOrEqual(0.8)
    expect(order).toBeLessThanOrEqual(1.3)
  })

  for (const sampler of ['heun', 'dpm_2', 'dpmpp_2m', 'res_multistep', 'exp_heun_2_x0']) {
    it(`${sampler} is second order`, async () => {
      const order = await observedOrder(sampler)
      expect(order).toBeGreaterThanOrEqual(1.7)
      expect(order).toBeLessThanOrEqual(2.5)
    })
  }

  it('the SDE solvers with η = 0 are second order or better', async () => {
    expect(await observedOrder('dpmpp_2m_sde', 0)).toBeGreaterThanOrEqual(1.7)
    expect(await observedOrder('dpmpp_2m_sde_heun', 0)).toBeGreaterThanOrEqual(1.7)
    expect(await observedOrder('dpmpp_sde', 0)).toBeGreaterThanOrEqual(1.7)
    expect(await observedOrder('dpmpp_3m_sde', 0)).toBeGreaterThanOrEqual(2.3)
    expect(await observedOrder('seeds_2', 0)).toBeGreaterThanOrEqual(1.7)
    expect(await observedOrder('seeds_3', 0)).toBeGreaterThanOrEqual(2.3)
  })

  for (const sampler of ['lms', 'uni_pc', 'uni_pc_bh2', 'deis']) {
    it(`${sampler} converges faster than second order`, async () => {
      expect(await observedOrder(sampler)).toBeGreaterThanOrEqual(2.3)
    })
  }

  it('higher-order samplers are at least 5× more accurate than Euler at 24 steps', async () => {
    const euler = await relativeError('euler', 24)
    for (const sampler of [
      'heun',
      'dpm_2',
      'lms',
      'dpmpp_2m',
      'uni_pc',
      'uni_pc_bh2',
      'ipndm',
      'ipndm_v',
      'deis',
    ]) {
      expect(await relativeError(sampler, 24)).toBeLessThan(euler / 5)
    }
  })

  it('SA-Solver without noise (η = 0) is at least 50× more accurate than Euler at 24 steps', async () => {
    const euler = await relativeError('euler', 24)
    expect(await relativeError('sa_solver', 24, 0)).toBeLessThan(euler / 50)
    expect(await relativeError('sa_solver_pece', 24, 0)).toBeLessThan(euler / 50)
  })

  it('dpm_fast and dpm_adaptive land near the exact solution at σ_min', async () => {
    expect(await relativeError('dpm_fast', 24)).toBeLessThan(1e-3)
    // adaptive steps with ComfyUI's tolerances (rtol 0.05, atol 0.0078)
    expect(await relativeError('dpm_adaptive', 10)).toBeLessThan(0.1)
  })
})
