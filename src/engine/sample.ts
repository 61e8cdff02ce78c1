/**
 * `sample()`: runs a named sampler over a σ schedule with a denoiser, the way ComfyUI's KSampler runs its
 * sampler functions (see docs/samplers.md for the contract and every deviation).
 * @module
 */
import { isStochastic, resolveSampler, type SamplerName } from './sampler-names.js'
import type { SamplerFn, SamplerOptions } from './samplers/common.js'
import { sampleDdpm } from './samplers/ddpm.js'
import { sampleDeis } from './samplers/deis.js'
import { sampleDpm2 } from './samplers/dpm-2.js'
import { sampleDpm2Ancestral } from './samplers/dpm-2-ancestral.js'
import { sampleDpmAdaptive } from './samplers/dpm-adaptive.js'
import { sampleDpmFast } from './samplers/dpm-fast.js'
import { sampleDpmppTwoM } from './samplers/dpmpp-2m.js'
import { sampleDpmppTwoSAncestral } from './samplers/dpmpp-2s-ancestral.js'
import {
  sampleDpmppThreeMSde,
  sampleDpmppTwoMSde,
  sampleDpmppTwoMSdeHeun,
} from './samplers/dpmpp-multistep-sde.js'
import { sampleDpmppSde } from './samplers/dpmpp-sde.js'
import { sampleErSde } from './samplers/er-sde.js'
import { sampleEuler } from './samplers/euler.js'
import { sampleEulerAncestral } from './samplers/euler-ancestral.js'
import { sampleGradientEstimation } from './samplers/gradient-estimation.js'
import { sampleHeun } from './samplers/heun.js'
import { sampleHeunpp2 } from './samplers/heunpp2.js'
import { sampleIpndm, sampleIpndmV } from './samplers/ipndm.js'
import { sampleLcm } from './samplers/lcm.js'
import { sampleLms } from './samplers/lms.js'
import { sampleResMultistep, sampleResMultistepAncestral } from './samplers/res-multistep.js'
import { sampleSaSolver, sampleSaSolverPece } from './samplers/sa-solver.js'
import {
  sampleExpHeunTwoX0,
  sampleExpHeunTwoX0Sde,
  sampleSeedsThree,
  sampleSeedsTwo,
} from './samplers/seeds.js'
import { sampleUniPc, uniPcLastSigma } from './samplers/uni-pc.js'
import type { Denoiser, NoiseSource, SampleOptions, StepInfo } from './types.js'

interface SamplerEntry {
  readonly run: SamplerFn
  /** The last σ as the sampler leaves it, when it alters it (ComfyUI's UniPC does, in place). */
  readonly lastSigma?: (sigmas: Float64Array) => number
}

const SAMPLERS: Readonly<Record<SamplerName, SamplerEntry>> = Object.freeze({
  euler: { run: sampleEuler },
  euler_ancestral: { run: sampleEulerAncestral },
  heun: { run: sampleHeun },
  heunpp2: { run: sampleHeunpp2 },
  exp_heun_2_x0: { run: sampleExpHeunTwoX0 },
  exp_heun_2_x0_sde: { run: sampleExpHeunTwoX0Sde },
  dpm_2: { run: sampleDpm2 },
  dpm_2_ancestral: { run: sampleDpm2Ancestral },
  lms: { run: sampleLms },
  dpm_fast: { run: sampleDpmFast },
  dpm_adaptive: { run: sampleDpmAdaptive },
  dpmpp_2s_ancestral: { run: sampleDpmppTwoSAncestral },
  dpmpp_sde: { run: sampleDpmppSde },
  dpmpp_2m: { run: sampleDpmppTwoM },
  dpmpp_2m_sde: { run: sampleDpmppTwoMSde },
  dpmpp_2m_sde_heun: { run: sampleDpmppTwoMSdeHeun },
  dpmpp_3m_sde: { run: sampleDpmppThreeMSde },
  ddpm: { run: sampleDdpm },
  lcm: { run: sampleLcm },
  ipndm: { run: sampleIpndm },
  ipndm_v: { run: sampleIpndmV },
  deis: { run: sampleDeis },
  res_multistep: { run: sampleResMultistep },
  res_multistep_ancestral: { run: sampleResMultistepAncestral },
  gradient_estimation: { run: sampleGradientEstimation },
  er_sde: { run: sampleErSde },
  seeds_2: { run: sampleSeedsTwo },
  seeds_3: { run: sampleSeedsThree },
  sa_solver: { run: sampleSaSolver },
  sa_solver_pece: { run: sampleSaSolverPece },
  // ComfyUI's `ddim` is `euler` (its only difference is random noise for inpainting masks).
  ddim: { run: sampleEuler },
  uni_pc: { run: (d, x, s, o) => sampleUniPc('bh1', d, x, s, o), lastSigma: uniPcLastSigma },
  uni_pc_bh2: { run: (d, x, s, o) => sampleUniPc('bh2', d, x, s, o), lastSigma: uniPcLastSigma },
})

/**
 * Samples with the named sampler (ComfyUI names or any alias {@link resolveSampler} knows) from the already
 * noised latent `x` down the schedule `sigmas`, exactly as given. Returns a new array: ComfyUI's sampler result
 * after the model sampling's `inverseNoiseScaling` at the last σ. A schedule with fewer than two values
 * returns a copy of `x` (ComfyUI returns the input for an empty schedule).
 *
 * The denoiser's result is read before its next call and never modified; samplers copy what they keep.
 * The state handed to the denoiser and the buffers `onStep` receives are live views of the run's working memory,
 * which the next run reuses once this one returns: copy them to keep them.
 */
export async function sample(
  sampler: string,
  denoiser: Denoiser,
  x: Float32Array,
  sigmas: ArrayLike<number>,
  options: SampleOptions = {},
): Promise<Float32Array> {
  const name = resolveSampler(sampler)
  if (!(x instanceof Float32Array)) throw new TypeError('sample: x must be a Float32Array')
  const schedule = Float64Array.from(sigmas)
  for (let i = 0; i < schedule.length; i++) {
    if (!Number.isFinite(schedule[i]))
      throw new RangeError(`sample: sigmas[${i}] is ${sigmas[i]}, not a finite number`)
  }
  if (options.noise === undefined && isStochastic(name) && !noiseVanishes(name, options)) {
    throw new TypeError(`sample: sampler "${name}" is stochastic and needs options.noise`)
  }
  options.signal?.throwIfAborted()
  if (schedule.length < 2) return x.slice()
  const entry = SAMPLERS[name]
  const result = await entry.run(denoiser, x, schedule, resolveOptions(name, options))
  const sampling = options.sampling
  if (!sampling) return result
  const lastSigma = entry.lastSigma ? entry.lastSigma(schedule) : schedule[schedule.length - 1]
  return sampling.inverseNoiseScaling(lastSigma, result)
}

/** Samplers whose every noise term is multiplied by η (ancestral and SDE families). */
const ETA_SCALES_NOISE: ReadonlySet<SamplerName> = new Set<SamplerName>([
  'euler_ancestral',
  'dpm_2_ancestral',
  'dpmpp_2s_ancestral',
  'dpmpp_sde',
  'dpmpp_2m_sde',
  'dpmpp_2m_sde_heun',
  'dpmpp_3m_sde',
  'res_multistep_ancestral',
  'exp_heun_2_x0_sde',
  'seeds_2',
  'seeds_3',
  'sa_solver',
  'sa_solver_pece',
])

/**
 * True when every noise draw of the sampler is multiplied by zero under these options (η = 0 for the
 * ancestral and SDE families, s_noise = 0 for all but `ddpm`, which has no s_noise): no noise source is needed.
 */
function noiseVanishes(name: SamplerName, options: SampleOptions): boolean {
  return (options.eta === 0 && ETA_SCALES_NOISE.has(name)) || (options.sNoise === 0 && name !== 'ddpm')
}

function resolveOptions(name: SamplerName, options: SampleOptions): SamplerOptions {
  const { noise, signal, onStep, sampling } = options
  const silent = noise === undefined && noiseVanishes(name, options)
  let zeros = new Float32Array(0)
  const draw: NoiseSource = (n) => {
    // The draw would be multiplied by zero: a zero source gives the same result as ComfyUI's unused draw.
    if (silent) {
      if (zeros.length !== n) zeros = new Float32Array(n)
      return zeros
    }
    if (!noise) throw new TypeError(`sample: sampler "${name}" needs options.noise with these settings`)
    const values = noise(n)
    if (values.length !== n)
      throw new RangeError(`sample: options.noise(${n}) returned ${values.length} values`)
    return values
  }
  const step = (info: StepInfo) => {
    onStep?.(info)
    signal?.throwIfAborted()
  }
  return {
    eta: options.eta,
    sNoise: options.sNoise ?? 1,
    flow: sampling?.kind === 'flow',
    sampling,
    noise: draw,
    step,
  }
}
