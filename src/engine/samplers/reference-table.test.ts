/**
 * The reference table of the engine spec §3.3: ComfyUI's own sampler functions run on a toy problem with a
 * closed-form denoiser and injected noise. Every expected value below is copied from that table (LOCAL,
 * produced by ComfyUI), not from this implementation.
 */
import { describe, expect, it } from 'vitest'
import { flowSampling } from '../model-sampling.js'
import { sample } from '../sample.js'
import type { Denoiser, NoiseSource } from '../types.js'

const VE_SIGMAS = [14.6146, 4, 1, 0.25, 0.03, 0]
const FLOW_SIGMAS = [1, 0.8, 0.6, 0.4, 0.2, 0]

interface Run {
  result: Float32Array
  calls: number[]
  noiseCalls: number
}

/** Exact posterior mean for x0 ~ N(0, 1): VE D = x/(1+σ²); flow D = (1−σ)x/((1−σ)² + σ²). */
async function runToy(sampler: string, frame: 've' | 'flow'): Promise<Run> {
  const calls: number[] = []
  const denoise: Denoiser = (x, sigma) => {
    calls.push(sigma)
    const scale = frame === 've' ? 1 / (1 + sigma ** 2) : (1 - sigma) / ((1 - sigma) ** 2 + sigma ** 2)
    return x.map((v) => v * scale)
  }
  let noiseCalls = 0
  // The k-th call returns [+0.5, 0.25] for even k and [−0.5, 0.25] for odd k.
  const noise: NoiseSource = (n) => {
    const values = new Float32Array(n)
    for (let i = 0; i < n; i += 2) {
      values[i] = noiseCalls % 2 === 0 ? 0.5 : -0.5
      values[i + 1] = 0.25
    }
    noiseCalls++
    return values
  }
  const x = frame === 've' ? new Float32Array([0.8 * 14.6146, -0.3 * 14.6146]) : new Float32Array([0.8, -0.3])
  const result = await sample(sampler, denoise, x, frame === 've' ? VE_SIGMAS : FLOW_SIGMAS, {
    noise,
    sampling: frame === 'flow' ? flowSampling() : undefined,
  })
  return { result, calls, noiseCalls }
}

function expectClose(actual: ArrayLike<number>, expected: readonly number[], relative: number): void {
  expect(actual.length).toBe(expected.length)
  for (let i = 0; i < expected.length; i++) {
    expect(Math.abs(actual[i] - expected[i])).toBeLessThanOrEqual(relative * Math.abs(expected[i]))
  }
}

// [sampler, VE result, FLOW result (null: not in the table), model calls, noise calls]
const TABLE: [string, number[], number[] | null, number, number][] = [
  ['euler', [0.564175474, -0.211565803], [0.616400156, -0.231150058], 5, 0],
  ['euler_ancestral', [0.0246110401, 0.221571096], [0.149755273, 0.285373567], 5, 4],
  ['heun', [1.07165244, -0.401869667], [0.776420943, -0.291157854], 9, 0],
  ['dpm_2', [0.916990657, -0.343871496], [0.793314711, -0.297493017], 9, 0],
  ['dpm_2_ancestral', [0.96088425, 0.444085543], [0.359208153, 0.363533026], 9, 4],
  ['lms', [0.616912142, -0.231342053], [0.753971845, -0.282739442], 5, 0],
  ['dpmpp_2s_ancestral', [0.164983713, 0.271655955], [0.239961779, 0.33599706], 9, 4],
  ['dpmpp_sde', [-0.152819863, 0.359921675], [-0.395161072, 0.449711602], 9, 8],
  ['dpmpp_2m', [0.841826161, -0.315684811], [0.839157077, -0.314683904], 5, 0],
  ['dpmpp_2m_sde', [-0.0265005707, 0.383224948], [0.0320320731, 0.412099741], 5, 4],
  ['dpmpp_3m_sde', [-0.347235185, 0.616235364], [0.151740594, 0.470222181], 5, 4],
  ['lcm', [-0.0757073738, 0.210896857], [-0.0272312197, 0.254396921], 5, 4],
  ['uni_pc', [1.40140057, -0.525525331], null, 5, 0],
  ['uni_pc_bh2', [1.03076279, -0.386536211], null, 5, 0],
  ['dpm_fast', [1.03033432, -0.386375372], null, 5, 0],
]

describe('spec §3.3 reference outputs (ComfyUI on the toy problem)', () => {
  for (const [sampler, ve, flow, calls, noiseCalls] of TABLE) {
    it(`${sampler} on the VE schedule`, async () => {
      const run = await runToy(sampler, 've')
      // float32 state against ComfyUI's float64 run (uni_pc's row is ComfyUI in float32)
      expectClose(run.result, ve, 1e-5)
      expect(run.calls.length).toBe(calls)
      expect(run.noiseCalls).toBe(noiseCalls)
    })
    if (flow) {
      it(`${sampler} on the flow schedule`, async () => {
        const run = await runToy(sampler, 'flow')
        expectClose(run.result, flow, 1e-5)
        expect(run.calls.length).toBe(calls)
        expect(run.noiseCalls).toBe(noiseCalls)
      })
    }
  }

  it('calls the model at the σ sequences listed in the spec', async () => {
    const dpm2Ve = await runToy('dpm_2', 've')
    expectClose(dpm2Ve.calls, [14.6146, 7.64581, 4, 2, 1, 0.5, 0.25, 0.0866, 0.03], 1e-4)
    const dpm2Flow = await runToy('dpm_2', 'flow')
    expectClose(dpm2Flow.calls, [1, 0.89443, 0.8, 0.69282, 0.6, 0.4899, 0.4, 0.28284, 0.2], 1e-4)
    const twoSFlow = await runToy('dpmpp_2s_ancestral', 'flow')
    expectClose(twoSFlow.calls, [1, 0.9999, 0.8, 0.64401, 0.6, 0.42481, 0.4, 0.21394, 0.2], 1e-4)
    const sdeFlow = await runToy('dpmpp_sde', 'flow')
    expectClose(sdeFlow.calls, [0.9999, 0.99502, 0.8, 0.7101, 0.6, 0.5, 0.4, 0.2899, 0.2], 1e-4)
    const fast = await runToy('dpm_fast', 've')
    expectClose(fast.calls, [14.6146, 5.21006, 1.85737, 0.66215, 0.14094], 1e-4)
  })

  it('treats ddim as euler, as ComfyUI does', async () => {
    const ddim = await runToy('ddim', 've')
    expectClose(ddim.result, [0.564175474, -0.211565803], 1e-5)
  })
})
