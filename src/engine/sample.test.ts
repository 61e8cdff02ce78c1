/**
 * The `sample()` contract: determinism, progress, abort, input validation, noise requirements, buffer
 * ownership and the final inverse noise scaling.
 */
import { describe, expect, it } from 'vitest'
import { flowSampling } from './model-sampling.js'
import { sample } from './sample.js'
import { SAMPLER_NAMES } from './sampler-names.js'
import type { Denoiser, NoiseSource, StepInfo } from './types.js'

const SIGMAS = [14.6146, 6, 2.5, 1, 0.4, 0.1, 0]
const FLOW_SIGMAS = [1, 0.85, 0.7, 0.5, 0.3, 0.1, 0]

function countingDenoiser(): { denoise: Denoiser; calls: number[] } {
  const calls: number[] = []
  const denoise: Denoiser = (x, sigma) => {
    calls.push(sigma)
    return x.map((v, i) => (v + 0.1 * Math.sin(i)) / (1 + sigma ** 2))
  }
  return { denoise, calls }
}

/** Deterministic pseudo-normal stream, different on every call. */
function seededNoise(seed = 1): NoiseSource {
  let k = seed
  return (n) => Float32Array.from({ length: n }, (_, i) => Math.sin(12.9898 * (k + i) + 78.233 * k++ * 0.37))
}

const start = () => Float32Array.from({ length: 8 }, (_, i) => 14.6146 * Math.cos(i + 0.3))

describe('sample()', () => {
  it('gives identical results for identical inputs and noise, for every sampler', async () => {
    for (const name of SAMPLER_NAMES) {
      const a = await sample(name, countingDenoiser().denoise, start(), SIGMAS, { noise: seededNoise() })
      const b = await sample(name, countingDenoiser().denoise, start(), SIGMAS, { noise: seededNoise() })
      expect(Array.from(b), name).toEqual(Array.from(a))
      expect(a.every(Number.isFinite), name).toBe(true)
    }
  })

  it('noise changes the result of stochastic samplers', async () => {
    const a = await sample('euler_ancestral', countingDenoiser().denoise, start(), SIGMAS, {
      noise: seededNoise(1),
    })
    const b = await sample('euler_ancestral', countingDenoiser().denoise, start(), SIGMAS, {
      noise: seededNoise(9),
    })
    expect(Array.from(a)).not.toEqual(Array.from(b))
  })

  it('neither modifies x nor returns it or a denoiser buffer', async () => {
    for (const name of SAMPLER_NAMES) {
      const x = start()
      const copy = x.slice()
      const returned: Float32Array[] = []
      const denoise: Denoiser = (input, sigma) => {
        const out = input.map((v) => v / (1 + sigma ** 2))
        returned.push(out)
        return out
      }
      const result = await sample(name, denoise, x, SIGMAS, { noise: seededNoise() })
      expect(Array.from(x), name).toEqual(Array.from(copy))
      expect(result, name).not.toBe(x)
      expect(returned.includes(result), name).toBe(false)
    }
  })

  it('copes with a denoiser that reuses one output buffer or returns its input', async () => {
    const fresh = await sample('dpmpp_3m_sde', countingDenoiser().denoise, start(), SIGMAS, {
      noise: seededNoise(),
    })
    const buffer = new Float32Array(8)
    const reusing: Denoiser = (x, sigma) => {
      x.forEach((v, i) => {
        buffer[i] = (v + 0.1 * Math.sin(i)) / (1 + sigma ** 2)
      })
      return buffer
    }
    const reused = await sample('dpmpp_3m_sde', reusing, start(), SIGMAS, { noise: seededNoise() })
    expect(Array.from(reused)).toEqual(Array.from(fresh))
    // identity denoiser: D(x) = x means no movement at all under Euler
    const identity = await sample('euler', (x) => x, start(), SIGMAS)
    expect(Array.from(identity)).toEqual(Array.from(start()))
  })

  it('reports every step once, in order, with the schedule values', async () => {
    const seen: StepInfo[] = []
    await sample('heun', countingDenoiser().denoise, start(), SIGMAS, {
      onStep: (info) => seen.push({ ...info }),
    })
    expect(seen.map((s) => s.step)).toEqual([0, 1, 2, 3, 4, 5])
    expect(seen.every((s) => s.steps === 6)).toBe(true)
    expect(seen.map((s) => s.sigma)).toEqual(SIGMAS.slice(0, -1))
    expect(seen.map((s) => s.sigmaNext)).toEqual(SIGMAS.slice(1))
  })

  it('reports the state after each step', async () => {
    const states: number[][] = []
    const result = await sample('euler', countingDenoiser().denoise, start(), SIGMAS, {
      onStep: (info) => states.push(Array.from(info.x)),
    })
    expect(states.at(-1)).toEqual(Array.from(result))
  })

  it('stops at the next step boundary when aborted, throwing the abort reason', async () => {
    for (const name of ['euler', 'heun', 'dpmpp_2m', 'uni_pc', 'dpm_fast', 'dpm_adaptive']) {
      const controller = new AbortController()
      let calls = 0
      let callsWhenStep1Ended = -1
      let stepsDone = 0
      const denoise: Denoiser = (x, sigma) => {
        calls++
        if (stepsDone === 1) controller.abort() // abort while step 1 is running
        return x.map((v) => v / (1 + sigma ** 2))
      }
      const run = sample(name, denoise, start(), SIGMAS, {
        signal: controller.signal,
        onStep: () => {
          stepsDone++
          if (stepsDone === 2) callsWhenStep1Ended = calls
        },
      })
      await expect(run, name).rejects.toMatchObject({ name: 'AbortError' })
      expect(stepsDone, name).toBe(2)
      expect(calls, name).toBe(callsWhenStep1Ended) // step 2 never called the model
    }
  })

  it('rejects at once when the signal is already aborted', async () => {
    const { denoise, calls } = countingDenoiser()
    await expect(
      sample('euler', denoise, start(), SIGMAS, { signal: AbortSignal.abort() }),
    ).rejects.toMatchObject({
      name: 'AbortError',
    })
    expect(calls).toHaveLength(0)
  })

  it('rejects non-finite sigmas and unknown samplers with a RangeError', async () => {
    const { denoise } = countingDenoiser()
    await expect(sample('euler', denoise, start(), [14, Number.NaN, 0])).rejects.toThrow(RangeError)
    await expect(sample('euler', denoise, start(), [Number.POSITIVE_INFINITY, 1, 0])).rejects.toThrow(
      RangeError,
    )
    await expect(sample('warp_drive', denoise, start(), SIGMAS)).rejects.toThrow(
      /warp_drive.*euler_ancestral/,
    )
  })

  it('returns a copy of x for a schedule shorter than two values', async () => {
    const { denoise, calls } = countingDenoiser()
    for (const sigmas of [[], [3]]) {
      const x = start()
      const result = await sample('euler', denoise, x, sigmas)
      expect(Array.from(result)).toEqual(Array.from(x))
      expect(result).not.toBe(x)
    }
    expect(calls).toHaveLength(0)
  })

  it('needs a noise source for stochastic samplers, unless every draw is scaled by zero', async () => {
    const { denoise, calls } = countingDenoiser()
    await expect(sample('euler_ancestral', denoise, start(), SIGMAS)).rejects.toThrow(
      /stochastic.*options\.noise/,
    )
    expect(calls).toHaveLength(0)
    const deterministic = await sample('euler_ancestral', denoise, start(), SIGMAS, { eta: 0 })
    const euler = await sample('euler', countingDenoiser().denoise, start(), SIGMAS)
    expect(deterministic[0]).toBeCloseTo(euler[0], 5)
    await expect(sample('dpm_fast', denoise, start(), SIGMAS, { eta: 0.5 })).rejects.toThrow(/options\.noise/)
  })

  it('uses exactly the sigmas given', async () => {
    const { denoise, calls } = countingDenoiser()
    await sample('euler', denoise, start(), SIGMAS)
    expect(calls).toEqual(SIGMAS.slice(0, -1))
  })

  it("applies the flow model's inverse noise scaling at UniPC's altered last σ (0.001)", async () => {
    const sampling = flowSampling()
    const denoise: Denoiser = (x, sigma) => x.map((v) => ((1 - sigma) * v) / ((1 - sigma) ** 2 + sigma ** 2))
    const x = Float32Array.from([0.8, -0.3])
    const withFlow = await sample('uni_pc', denoise, x, FLOW_SIGMAS, { sampling })
    // the same VE arithmetic without a model sampling skips the final division by 1 − 0.001
    const plain = await sample('uni_pc', denoise, x, FLOW_SIGMAS)
    expect(withFlow[0] / plain[0]).toBeCloseTo(1 / Math.fround(1 - Math.fround(0.001)), 6)
    // euler leaves the last σ at 0: the scaling is the identity
    const euler = await sample('euler', denoise, x, FLOW_SIGMAS, { sampling })
    const eulerPlain = await sample('euler', denoise, x, FLOW_SIGMAS)
    expect(Array.from(euler)).toEqual(Array.from(eulerPlain))
  })

  it('dpm_fast and dpm_adaptive stop at the last non-zero σ without a final denoise', async () => {
    for (const name of ['dpm_fast', 'dpm_adaptive']) {
      const { denoise, calls } = countingDenoiser()
      const result = await sample(name, denoise, start(), SIGMAS)
      expect(Math.min(...calls), name).toBeGreaterThanOrEqual(0.1 * (1 - 1e-9))
      // still noisy: the data part is tiny and the residual keeps the σ_min = 0.1 noise level
      const denoised = await denoise(result, 0.1)
      expect(result[0], name).not.toBeCloseTo(denoised[0], 6)
    }
  })
})
