/**
 * Engine cost per model call: every sampler on a 16×128×128 latent (one 1024² Flux/Chroma latent) with a
 * denoiser and a noise source that cost nothing (preallocated arrays), 25 karras steps on the SD σ range.
 * What is left is the sampler's own arithmetic and bookkeeping; the budget is 2 ms per model call on one core.
 *
 *   npm run bench:engine-math            (options: --steps N, --repeats N, --size N)
 */
import { createNoiseSource } from '../src/engine/rng/torch-randn.js'
import { sample } from '../src/engine/sample.js'
import { SAMPLER_NAMES } from '../src/engine/sampler-names.js'
import type { Denoiser } from '../src/engine/types.js'

const BUDGET_MS = 2

function argument(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`)
  return at >= 0 ? Number(process.argv[at + 1]) : fallback
}

const steps = argument('steps', 25)
const repeats = argument('repeats', 5)
const size = argument('size', 16 * 128 * 128)

/** Karras et al. 2022 schedule (ρ = 7) between SD's σ_min and σ_max, then 0. */
function karras(n: number, sigmaMin = 0.0291675, sigmaMax = 14.614642): number[] {
  const rho = 7
  const ramp = (i: number) => (n === 1 ? 0 : i / (n - 1))
  const sigmas = Array.from(
    { length: n },
    (_, i) => (sigmaMax ** (1 / rho) + ramp(i) * (sigmaMin ** (1 / rho) - sigmaMax ** (1 / rho))) ** rho,
  )
  return [...sigmas, 0]
}

const denoised = new Float32Array(size).fill(0.5)
const normals = Float32Array.from({ length: size }, (_, i) => Math.sin(i * 12.9898) * 1.7)
const sigmas = karras(steps)
const start = Float32Array.from({ length: size }, (_, i) => normals[(i * 7) % size] * sigmas[0])

interface Row {
  sampler: string
  calls: number
  /** Median wall-clock time per model call. */
  msPerCall: number
  /** Median CPU time of this process per model call: less sensitive to other load on the machine. */
  cpuMsPerCall: number
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]

async function measure(sampler: string): Promise<Row> {
  let calls = 0
  const denoise: Denoiser = () => {
    calls++
    return denoised
  }
  const run = () => sample(sampler, denoise, start, sigmas, { noise: () => normals })
  await run() // warm-up: JIT and first allocations
  const wall: number[] = []
  const cpu: number[] = []
  let callsPerRun = 0
  for (let r = 0; r < repeats; r++) {
    calls = 0
    const cpu0 = process.cpuUsage()
    const t0 = performance.now()
    await run()
    wall.push(performance.now() - t0)
    const used = process.cpuUsage(cpu0)
    cpu.push((used.user + used.system) / 1000)
    callsPerRun = calls
  }
  return {
    sampler,
    calls: callsPerRun,
    msPerCall: median(wall) / callsPerRun,
    cpuMsPerCall: median(cpu) / callsPerRun,
  }
}

/** CPU ms of one plain pass x = a·x + b·D over the latent: this machine's unit of memory-bound work. */
function onePassCpuMs(): number {
  const x = start.slice()
  const runs: number[] = []
  for (let r = 0; r < 7; r++) {
    const cpu0 = process.cpuUsage()
    for (let rep = 0; rep < 20; rep++) {
      for (let i = 0; i < x.length; i++) x[i] = 0.9 * x[i] + 0.1 * denoised[i]
    }
    const used = process.cpuUsage(cpu0)
    runs.push((used.user + used.system) / 1000 / 20)
  }
  return median(runs)
}

async function main(): Promise<void> {
  console.log(
    `engine math per model call: ${size} elements, ${steps} karras steps, median of ${repeats} runs`,
  )
  console.log('')
  const pass = onePassCpuMs()
  console.log(`one plain pass (x = a·x + b·D) over the latent: ${pass.toFixed(3)} CPU ms on this machine`)
  console.log('')
  console.log('| sampler | model calls | wall ms per call | CPU ms per call | CPU per call in passes | |')
  console.log('| --- | ---: | ---: | ---: | ---: | --- |')
  let slow = 0
  for (const sampler of SAMPLER_NAMES) {
    const row = await measure(sampler)
    const over = Math.min(row.msPerCall, row.cpuMsPerCall) > BUDGET_MS
    if (over) slow++
    console.log(
      `| ${row.sampler} | ${row.calls} | ${row.msPerCall.toFixed(3)} | ${row.cpuMsPerCall.toFixed(3)} | ${(row.cpuMsPerCall / pass).toFixed(1)} | ${over ? `over ${BUDGET_MS} ms` : ''} |`,
    )
  }
  const source = createNoiseSource(0)
  source(size)
  const t0 = performance.now()
  source(size)
  console.log('')
  console.log(
    `for reference: one torch-compatible noise draw of ${size} values takes ${(performance.now() - t0).toFixed(1)} ms`,
  )
  console.log(
    slow === 0 ? `all samplers within ${BUDGET_MS} ms per call` : `${slow} sampler(s) over ${BUDGET_MS} ms`,
  )
}

await main()
