/**
 * Stochastic samplers with real Gaussian noise on Gaussian data x0 ~ N(0, s²) and its exact denoiser: starting
 * from the exact marginal at σ_T, the output must be distributed like the data — its variance within a few
 * percent of s² (the sample variance over 20k elements has a standard error of 1 %; the rest of the
 * tolerance is the samplers' discretisation bias at the given step counts).
 */
import { describe, expect, it } from 'vitest'
import { flowSampling } from '../model-sampling.js'
import { sample } from '../sample.js'
import type { Denoiser, NoiseSource } from '../types.js'

const S2 = 1
const ELEMENTS = 20_000

/** A seeded standard-normal source (xorshift32 + Box–Muller); fast enough for many large draws. */
function gaussian(seed: number): NoiseSource {
  let state = seed >>> 0 || 1
  const uniform = () => {
    state ^= state << 13
    state ^= state >>> 17
    state ^= state << 5
    state >>>= 0
    return (state + 0.5) / 4294967296
  }
  return (n) => {
    const out = new Float32Array(n)
    for (let i = 0; i < n; i += 2) {
      const radius = Math.sqrt(-2 * Math.log(uniform()))
      const angle = 2 * Math.PI * uniform()
      out[i] = radius * Math.cos(angle)
      if (i + 1 < n) out[i + 1] = radius * Math.sin(angle)
    }
    return out
  }
}

/** VE: E[x0 | x] = x·s²/(s² + σ²). Flow (x = (1−σ)x0 + σn): (1−σ)s²·x/((1−σ)²s² + σ²). */
function exactDenoiser(flow: boolean): Denoiser {
  const out = new Float32Array(ELEMENTS)
  return (x, sigma) => {
    const gain = flow ? ((1 - sigma) * S2) / ((1 - sigma) ** 2 * S2 + sigma ** 2) : S2 / (S2 + sigma ** 2)
    for (let i = 0; i < x.length; i++) out[i] = gain * x[i]
    return out
  }
}

function variance(x: Float32Array): number {
  let sum = 0
  let squares = 0
  for (const v of x) {
    sum += v
    squares += v * v
  }
  const mean = sum / x.length
  return squares / x.length - mean * mean
}

/** VE: N steps uniform in log σ from 14.6 to 0.03, then 0. Flow: σ = 1, 1 − 1/N, …, 1/N, 0. */
function schedule(flow: boolean, steps: number): number[] {
  if (flow) return [...Array.from({ length: steps }, (_, i) => 1 - i / steps), 0]
  const [hi, lo] = [14.6, 0.03]
  const interior = Array.from({ length: steps }, (_, i) =>
    Math.exp(Math.log(hi) + (i / (steps - 1)) * (Math.log(lo) - Math.log(hi))),
  )
  return [...interior, 0]
}

async function outputVariance(sampler: string, flow: boolean, steps: number): Promise<number> {
  const sigmas = schedule(flow, steps)
  const start = gaussian(7)(ELEMENTS)
  // x_T ~ N(0, s² + σ_T²) for VE; pure noise at σ = 1 for flow.
  const scale = flow ? 1 : Math.sqrt(S2 + sigmas[0] ** 2)
  for (let i = 0; i < start.length; i++) start[i] *= scale
  const out = await sample(sampler, exactDenoiser(flow), start, sigmas, {
    noise: gaussian(11),
    sampling: flow ? flowSampling() : undefined,
  })
  return variance(out) / S2
}

// [sampler, steps, tolerance, frames]: first-order samplers need more steps for the same bias.
const CASES: [string, number, number, ('ve' | 'flow')[]][] = [
  ['euler_ancestral', 100, 0.1, ['ve', 'flow']],
  ['dpmpp_sde', 100, 0.1, ['ve', 'flow']],
  ['ddpm', 100, 0.1, ['ve']],
  ['dpm_2_ancestral', 30, 0.07, ['ve', 'flow']],
  ['dpmpp_2s_ancestral', 30, 0.07, ['ve', 'flow']],
  ['dpmpp_2m_sde', 30, 0.07, ['ve', 'flow']],
  ['dpmpp_2m_sde_heun', 50, 0.07, ['ve', 'flow']],
  ['dpmpp_3m_sde', 30, 0.07, ['ve', 'flow']],
  ['er_sde', 30, 0.07, ['ve', 'flow']],
  ['res_multistep_ancestral', 30, 0.07, ['ve']],
  ['seeds_2', 30, 0.07, ['ve', 'flow']],
  ['seeds_3', 30, 0.07, ['ve', 'flow']],
  ['exp_heun_2_x0_sde', 30, 0.07, ['ve', 'flow']],
  ['sa_solver', 30, 0.07, ['ve', 'flow']],
  ['sa_solver_pece', 30, 0.07, ['ve', 'flow']],
]

describe('stochastic samplers reproduce the data variance', () => {
  for (const [sampler, steps, tolerance, frames] of CASES) {
    for (const frame of frames) {
      it(`${sampler} (${frame}, ${steps} steps)`, async () => {
        const ratio = await outputVariance(sampler, frame === 'flow', steps)
        expect(Math.abs(ratio - 1)).toBeLessThanOrEqual(tolerance)
      })
    }
  }

  // LCM jumps to the posterior mean and re-noises, so with this (non-consistency) denoiser its variance
  // follows v' = σ'² + k²c²v exactly (c = denoiser gain, k = 1 for VE, 1 − σ' for flow).
  for (const flow of [false, true]) {
    it(`lcm follows its variance recursion (${flow ? 'flow' : 've'})`, async () => {
      const sigmas = schedule(flow, 10)
      let expected = flow ? 1 : S2 + sigmas[0] ** 2
      for (let i = 0; i < sigmas.length - 1; i++) {
        const [sigma, next] = [sigmas[i], sigmas[i + 1]]
        const gain = flow ? ((1 - sigma) * S2) / ((1 - sigma) ** 2 * S2 + sigma ** 2) : S2 / (S2 + sigma ** 2)
        const keep = flow ? 1 - next : 1
        expected = next ** 2 + (keep * gain) ** 2 * expected
      }
      const ratio = await outputVariance('lcm', flow, 10)
      expect(Math.abs(ratio * S2 - expected) / expected).toBeLessThanOrEqual(0.03)
    })
  }
})
