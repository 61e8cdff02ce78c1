/**
 * Model samplings: how a model family maps noise levels to network inputs and back (ComfyUI
 * `comfy/model_sampling.py`). ComfyUI keeps σ tables and σ arithmetic in float32 tensors, so every step here
 * rounds with `Math.fround` in the same order; that keeps table look-ups (`timestep`, `simple`, `beta`) on the
 * same index as ComfyUI's.
 * @module
 */
import { linspace64 } from './linspace.js'
import type { Denoiser, ModelSampling } from './types.js'

const f32 = Math.fround

export interface DiscreteSamplingOptions {
  betaStart?: number
  betaEnd?: number
  /**
   * `'scaled_linear'`: β = (linspace of √β)², ComfyUI's "linear" (SD 1.x/2.x/SDXL); `'linear'`: β = linspace of β
   * (diffusers' "linear", ComfyUI's "sqrt_linear").
   */
  betaSchedule?: 'scaled_linear' | 'linear'
  numTimesteps?: number
  prediction?: 'eps' | 'v'
}

export interface FlowSamplingOptions {
  /** SD3-style time shift s: σ = s·t/(1 + (s−1)·t). Ignored when `mu` is given. */
  shift?: number
  /** Network time input per unit σ (1000 for SD3, 1 for Flux schnell / AuraFlow). Ignored when `mu` is given. */
  multiplier?: number
  /** Flux-style exponential shift μ: σ = e^μ/(e^μ + 1/t − 1), the network time input is σ itself. */
  mu?: number
  /** Table entries; default 1000, or 10000 with `mu` (ComfyUI `ModelSamplingFlux`). */
  tableSize?: number
}

/** A raw network call: input c_in·x and time input t(σ) → output F. */
export type RawModel = (input: Float32Array, timestep: number) => Float32Array | Promise<Float32Array>

/**
 * ComfyUI `ModelSamplingDiscrete` (+ `EPS` / `V_PREDICTION`): the 1000-step VP table of SD 1.x, 2.x and SDXL.
 * β and ᾱ in float64, σ_i = √((1 − ᾱ_i)/ᾱ_i) and log σ_i stored as float32.
 */
export function discreteSampling(options: DiscreteSamplingOptions = {}): ModelSampling {
  const {
    betaStart = 0.00085,
    betaEnd = 0.012,
    betaSchedule = 'scaled_linear',
    numTimesteps = 1000,
    prediction = 'eps',
  } = options
  if (!Number.isInteger(numTimesteps) || numTimesteps < 2) {
    throw new RangeError(`discreteSampling: numTimesteps must be an integer ≥ 2, got ${numTimesteps}`)
  }
  if (!(betaStart > 0 && betaEnd < 1 && betaStart <= betaEnd)) {
    throw new RangeError(`discreteSampling: need 0 < betaStart ≤ betaEnd < 1, got ${betaStart}, ${betaEnd}`)
  }
  if (betaSchedule !== 'scaled_linear' && betaSchedule !== 'linear') {
    throw new RangeError(`discreteSampling: unknown betaSchedule '${betaSchedule}' (scaled_linear, linear)`)
  }
  if (prediction !== 'eps' && prediction !== 'v') {
    throw new RangeError(`discreteSampling: prediction must be 'eps' or 'v', got '${prediction}'`)
  }
  const betas =
    betaSchedule === 'scaled_linear'
      ? linspace64(Math.sqrt(betaStart), Math.sqrt(betaEnd), numTimesteps).map((b) => b * b)
      : linspace64(betaStart, betaEnd, numTimesteps)
  const sigmas = new Float64Array(numTimesteps)
  const logSigmas = new Float64Array(numTimesteps)
  let alphaCumprod = 1
  for (let i = 0; i < numTimesteps; i++) {
    alphaCumprod *= 1 - betas[i]
    const sigma = Math.sqrt((1 - alphaCumprod) / alphaCumprod)
    sigmas[i] = f32(sigma)
    logSigmas[i] = f32(Math.log(sigma))
  }
  const last = numTimesteps - 1

  /** ComfyUI `sigma(t)`: clamp, then interpolate log σ between the neighbouring table entries. */
  const timestepToSigma = (timestep: number): number => {
    const t = Math.min(Math.max(f32(timestep), 0), last)
    const lo = Math.floor(t)
    const w = f32(t - lo)
    return f32(Math.exp(f32(f32(f32(1 - w) * logSigmas[lo]) + f32(w * logSigmas[Math.ceil(t)]))))
  }

  return {
    kind: 'discrete',
    prediction,
    sigmas,
    sigmaMin: sigmas[0],
    sigmaMax: sigmas[last],
    /** ComfyUI `timestep(σ)`: the nearest table index in log σ (first one on a tie, as `argmin`). */
    sigmaToTimestep(sigma) {
      const logSigma = f32(Math.log(f32(sigma)))
      let best = 0
      let bestDistance = Number.POSITIVE_INFINITY
      for (let i = 0; i <= last; i++) {
        const distance = Math.abs(f32(logSigma - logSigmas[i]))
        if (distance < bestDistance) {
          best = i
          bestDistance = distance
        }
      }
      return best
    },
    timestepToSigma,
    percentToSigma(percent) {
      if (percent <= 0) return 999999999.9
      if (percent >= 1) return 0
      return timestepToSigma((1 - percent) * 999)
    },
    noiseScaling(sigma, noise, latent, maxDenoise) {
      const s = f32(sigma)
      const scale = maxDenoise ? f32(Math.sqrt(f32(1 + f32(s * s)))) : s
      const out = new Float32Array(noise.length)
      for (let i = 0; i < out.length; i++) out[i] = f32(noise[i] * scale) + (latent ? latent[i] : 0)
      return out
    },
    inverseNoiseScaling: (_sigma, x) => x,
    calculateInput(sigma, x) {
      const s = f32(sigma)
      const norm = f32(Math.sqrt(f32(f32(s * s) + 1)))
      const out = new Float32Array(x.length)
      for (let i = 0; i < out.length; i++) out[i] = x[i] / norm
      return out
    },
    calculateDenoised(sigma, modelOutput, x) {
      const s = f32(sigma)
      const out = new Float32Array(x.length)
      if (prediction === 'eps') {
        for (let i = 0; i < out.length; i++) out[i] = x[i] - f32(modelOutput[i] * s)
        return out
      }
      const variance = f32(f32(s * s) + 1)
      const norm = f32(Math.sqrt(variance))
      for (let i = 0; i < out.length; i++) out[i] = f32(x[i] / variance) - f32(f32(modelOutput[i] * s) / norm)
      return out
    },
  }
}

/** ComfyUI `time_snr_shift` on a float32 tensor: σ = s·t/(1 + (s−1)·t). */
function timeShift32(shift: number, t: number): number {
  if (shift === 1) return t
  return f32(f32(f32(shift) * t) / f32(1 + f32(f32(shift - 1) * t)))
}

/** ComfyUI `flux_time_shift(μ, 1, t)` on a float32 tensor: e^μ/(e^μ + (1/t − 1)), with torch's reciprocal form. */
function fluxShift32(expMu: number, t: number): number {
  const denominator = f32(expMu + f32(f32(1 / t) - 1))
  return f32(f32(1 / denominator) * expMu)
}

/**
 * Rectified-flow sampling (ComfyUI `CONST` prediction): `ModelSamplingDiscreteFlow` (shift, multiplier; SD3,
 * Flux schnell, AuraFlow) or, with `mu`, `ModelSamplingFlux` (Flux dev, Chroma). The table is
 * σ_i = shift((i+1)/M). Note ComfyUI's quirk, kept here: `timestep(σ) = σ·multiplier` while
 * `sigma(t) = shift(t/multiplier)`, so the two are not inverse when shift ≠ 1.
 */
export function flowSampling(options: FlowSamplingOptions = {}): ModelSampling {
  const { shift = 1, multiplier = 1, mu } = options
  const flux = mu !== undefined
  const tableSize = options.tableSize ?? (flux ? 10000 : 1000)
  if (!Number.isInteger(tableSize) || tableSize < 2) {
    throw new RangeError(`flowSampling: tableSize must be an integer ≥ 2, got ${tableSize}`)
  }
  if (flux ? !Number.isFinite(mu) : !(shift > 0 && Number.isFinite(shift))) {
    throw new RangeError(`flowSampling: need a finite mu or a positive shift, got shift ${shift}, mu ${mu}`)
  }
  if (!flux && !(multiplier > 0 && Number.isFinite(multiplier))) {
    throw new RangeError(`flowSampling: multiplier must be positive, got ${multiplier}`)
  }
  const expMu = flux ? Math.exp(mu) : 0
  const expMu32 = f32(expMu)
  const timeMultiplier = flux ? 1 : multiplier

  const timestepToSigma = (timestep: number): number =>
    flux ? fluxShift32(expMu32, f32(timestep)) : timeShift32(shift, f32(f32(timestep) / multiplier))

  const sigmas = new Float64Array(tableSize)
  for (let i = 0; i < tableSize; i++) {
    const t = f32((i + 1) / tableSize)
    sigmas[i] = timestepToSigma(flux ? t : f32(t * multiplier))
  }

  return {
    kind: 'flow',
    prediction: 'flow',
    sigmas,
    sigmaMin: sigmas[0],
    sigmaMax: sigmas[tableSize - 1],
    sigmaToTimestep: (sigma) => f32(f32(sigma) * timeMultiplier),
    timestepToSigma,
    /** Computed in float64 as ComfyUI does (plain Python floats here). */
    percentToSigma(percent) {
      if (percent <= 0) return 1
      if (percent >= 1) return 0
      const t = 1 - percent
      if (flux) return expMu / (expMu + (1 / t - 1))
      return shift === 1 ? t : (shift * t) / (1 + (shift - 1) * t)
    },
    noiseScaling(sigma, noise, latent) {
      const s = f32(sigma)
      const keep = f32(1 - s)
      const out = new Float32Array(noise.length)
      for (let i = 0; i < out.length; i++) out[i] = f32(noise[i] * s) + (latent ? f32(keep * latent[i]) : 0)
      return out
    },
    inverseNoiseScaling(sigma, x) {
      const keep = f32(1 - f32(sigma))
      const out = new Float32Array(x.length)
      for (let i = 0; i < out.length; i++) out[i] = x[i] / keep
      return out
    },
    calculateInput: (_sigma, x) => x,
    calculateDenoised(sigma, modelOutput, x) {
      const s = f32(sigma)
      const out = new Float32Array(x.length)
      for (let i = 0; i < out.length; i++) out[i] = x[i] - f32(modelOutput[i] * s)
      return out
    },
  }
}

/** ComfyUI `Sampler.max_denoise`: the schedule starts at (or above) the model's σ_max, within 1e-5 relative. */
export function maxDenoise(sampling: ModelSampling, sigma: number): boolean {
  const sigmaMax = sampling.sigmaMax
  return (
    Math.abs(sigma - sigmaMax) <= 1e-5 * Math.max(Math.abs(sigma), Math.abs(sigmaMax)) || sigma > sigmaMax
  )
}

/**
 * Turns a raw network into a denoiser D(x, σ) = calculateDenoised(σ, F(calculateInput(σ, x), t(σ)), x)
 * (ComfyUI `BaseModel._apply_model`). Stays synchronous when the model is.
 */
export function wrapModel(sampling: ModelSampling, model: RawModel): Denoiser {
  return (x, sigma) => {
    const output = model(sampling.calculateInput(sigma, x), sampling.sigmaToTimestep(sigma))
    if (output instanceof Float32Array) return sampling.calculateDenoised(sigma, output, x)
    return output.then((resolved) => sampling.calculateDenoised(sigma, resolved, x))
  }
}
