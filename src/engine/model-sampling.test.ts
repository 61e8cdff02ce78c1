import { describe, expect, it } from 'vitest'
import { discreteSampling, flowSampling, maxDenoise, wrapModel } from './model-sampling.js'

/** |actual − expected| ≤ 1e-5·|expected| (the spec's values have 6 significant digits). */
function expectClose(actual: number, expected: number, rel = 1e-5): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(rel * Math.abs(expected))
}

describe('discreteSampling (ComfyUI ModelSamplingDiscrete, spec §1.2)', () => {
  const sd = discreteSampling()

  it('has the SD table endpoints', () => {
    expect(sd.sigmas.length).toBe(1000)
    expectClose(sd.sigmaMin, 0.029167159)
    expectClose(sd.sigmaMax, 14.614641)
    expect(sd.sigmaMin).toBe(sd.sigmas[0])
    expect(sd.sigmaMax).toBe(sd.sigmas[999])
    expectClose(sd.sigmas[901], 8.39069)
  })

  it('stores float32 values in an ascending table', () => {
    for (let i = 0; i < sd.sigmas.length; i++) {
      expect(Math.fround(sd.sigmas[i])).toBe(sd.sigmas[i])
      if (i > 0) expect(sd.sigmas[i]).toBeGreaterThan(sd.sigmas[i - 1])
    }
  })

  it('interpolates log σ for fractional timesteps and clamps', () => {
    expectClose(sd.timestepToSigma(500.5), 1.62098)
    // exp of the float32 log table: equal to the table within float32 rounding, as in ComfyUI
    expectClose(sd.timestepToSigma(0), sd.sigmaMin, 1e-6)
    expectClose(sd.timestepToSigma(999), sd.sigmaMax, 1e-6)
    expect(sd.timestepToSigma(-5)).toBe(sd.timestepToSigma(0))
    expect(sd.timestepToSigma(5000)).toBe(sd.timestepToSigma(999))
    const between = sd.timestepToSigma(500.5)
    expect(between).toBeGreaterThan(sd.sigmas[500])
    expect(between).toBeLessThan(sd.sigmas[501])
  })

  it('maps σ to the nearest table index in log space', () => {
    expect(sd.sigmaToTimestep(1.0)).toBe(354)
    expect(sd.sigmaToTimestep(sd.sigmaMax)).toBe(999)
    expect(sd.sigmaToTimestep(sd.sigmaMin)).toBe(0)
    expect(sd.sigmaToTimestep(1000)).toBe(999)
    for (const i of [1, 17, 250, 777, 998]) expect(sd.sigmaToTimestep(sd.sigmas[i])).toBe(i)
  })

  it('follows ComfyUI percent_to_sigma', () => {
    expect(sd.percentToSigma(0)).toBe(999999999.9)
    expect(sd.percentToSigma(-1)).toBe(999999999.9)
    expect(sd.percentToSigma(1)).toBe(0)
    expectClose(sd.percentToSigma(0.5), sd.timestepToSigma(499.5))
    expect(sd.percentToSigma(0.25)).toBeGreaterThan(sd.percentToSigma(0.75))
  })

  it('scales noise by σ, or by √(1+σ²) at max denoise, and adds the latent', () => {
    const noise = new Float32Array([1, -2])
    const latent = new Float32Array([0.5, 0.25])
    expect(Array.from(sd.noiseScaling(2, noise, latent, false))).toEqual([2.5, -3.75])
    const max = sd.noiseScaling(2, noise, null, true)
    expectClose(max[0], Math.sqrt(5), 1e-7)
    expectClose(max[1], -2 * Math.sqrt(5), 1e-7)
    expect(sd.inverseNoiseScaling(0, noise)).toEqual(noise)
  })

  it('computes c_in and the eps / v denoised estimates', () => {
    const x = new Float32Array([3, -1])
    const output = new Float32Array([0.5, 2])
    const input = sd.calculateInput(2, x)
    expectClose(input[0], 3 / Math.sqrt(5), 1e-7)
    expect(Array.from(sd.calculateDenoised(2, output, x))).toEqual([2, -5])
    const v = discreteSampling({ prediction: 'v' })
    expect(v.prediction).toBe('v')
    const denoised = v.calculateDenoised(2, output, x)
    expectClose(denoised[0], 3 / 5 - (0.5 * 2) / Math.sqrt(5), 1e-6)
    expectClose(denoised[1], -1 / 5 - (2 * 2) / Math.sqrt(5), 1e-6)
  })

  it("supports diffusers' plain linear betas", () => {
    const linear = discreteSampling({ betaSchedule: 'linear', betaStart: 0.0001, betaEnd: 0.02 })
    // DDPM (Ho et al.) table: ᾱ_0 = 1 − 1e-4, so σ_0 = √(1e-4/(1 − 1e-4)).
    expectClose(linear.sigmaMin, Math.sqrt(1e-4 / (1 - 1e-4)), 1e-6)
    expect(linear.sigmaMax).toBeGreaterThan(100)
  })

  it('rejects bad options', () => {
    expect(() => discreteSampling({ numTimesteps: 1 })).toThrow(RangeError)
    expect(() => discreteSampling({ betaStart: 0.5, betaEnd: 0.1 })).toThrow(RangeError)
  })
})

describe('flowSampling (ComfyUI ModelSamplingDiscreteFlow / ModelSamplingFlux, spec §1.3, §2)', () => {
  it('builds the Flux μ = 1.15 table', () => {
    const flux = flowSampling({ mu: 1.15 })
    expect(flux.sigmas.length).toBe(10000)
    expectClose(flux.sigmaMin, 0.000315751)
    expect(flux.sigmaMax).toBe(1)
    expect(flux.sigmaToTimestep(0.5)).toBe(0.5)
    // e^μ = 3.158193 (spec §1.3): shift(0.5) = e^μ/(e^μ + 1)
    expectClose(flux.timestepToSigma(0.5), 3.158193 / 4.158193)
    expectClose(flux.percentToSigma(0.5), 3.158193 / 4.158193)
  })

  it('builds an unshifted table with multiplier 1', () => {
    const flow = flowSampling()
    expect(flow.sigmas.length).toBe(1000)
    expectClose(flow.sigmaMin, 0.001)
    expect(flow.sigmaMax).toBe(1)
    expect(flow.sigmaToTimestep(0.25)).toBe(0.25)
    expect(flow.timestepToSigma(0.25)).toBe(0.25)
  })

  it('shifts SD3-style and keeps ComfyUI timestep = σ·multiplier', () => {
    const sd3 = flowSampling({ shift: 3, multiplier: 1000 })
    expect(sd3.sigmaToTimestep(0.5)).toBe(500)
    expectClose(sd3.timestepToSigma(500), 0.75)
    expectClose(sd3.percentToSigma(0.5), 0.75)
    expect(sd3.percentToSigma(0)).toBe(1)
    expect(sd3.percentToSigma(1)).toBe(0)
  })

  it('interpolates latent and noise, and undoes it at the end', () => {
    const flow = flowSampling()
    const x = flow.noiseScaling(0.25, new Float32Array([4, -4]), new Float32Array([2, 2]), true)
    expect(Array.from(x)).toEqual([2.5, 0.5])
    expect(Array.from(flow.noiseScaling(0.5, new Float32Array([2]), null, false))).toEqual([1])
    expect(Array.from(flow.inverseNoiseScaling(0.5, new Float32Array([1, -3])))).toEqual([2, -6])
    expect(Array.from(flow.calculateInput(0.5, x))).toEqual(Array.from(x))
    expect(
      Array.from(flow.calculateDenoised(0.5, new Float32Array([1, 2]), new Float32Array([3, 3]))),
    ).toEqual([2.5, 2])
  })
})

describe('maxDenoise and wrapModel', () => {
  it('detects a schedule that starts at σ_max (ComfyUI rule)', () => {
    const sd = discreteSampling()
    expect(maxDenoise(sd, sd.sigmaMax)).toBe(true)
    expect(maxDenoise(sd, 14.6146)).toBe(true)
    expect(maxDenoise(sd, 20)).toBe(true)
    expect(maxDenoise(sd, 14.5)).toBe(false)
  })

  it('feeds c_in·x and t(σ) to the network and returns x − σ·ε̂', async () => {
    const sd = discreteSampling()
    const seen: number[] = []
    const network = (input: Float32Array, timestep: number) => {
      seen.push(timestep, input[0])
      return new Float32Array([1])
    }
    const denoise = wrapModel(sd, network)
    const result = denoise(new Float32Array([2]), 1.0)
    expect(result).toBeInstanceOf(Float32Array)
    expect(seen[0]).toBe(354)
    expectClose(seen[1], 2 / Math.sqrt(2), 1e-7)
    expect(Array.from(result as Float32Array)).toEqual([1])
    const asyncDenoise = wrapModel(sd, async () => new Float32Array([1]))
    expect(Array.from(await asyncDenoise(new Float32Array([2]), 1.0))).toEqual([1])
  })
})
