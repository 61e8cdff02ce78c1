/**
 * CPU time for one image of the bundled demo model (pigment-shapes) at its default settings (64×64), through
 * the real flow pipeline: text encoder, transformer (CFG: two calls per step) and VAE decoder. The budget is
 * well under a second per image.
 *
 *   npm run bench:demo-model            (options: --repeats N, --model NAME_OR_PATH)
 */
import { loadPipeline } from '../src/pipelines/load-pipeline.js'
import type { SessionRunEvent } from '../src/pipelines/session.js'

const BUDGET_MS = 1000

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`)
  return at >= 0 ? process.argv[at + 1] : fallback
}

const repeats = Number(option('repeats', '10'))
const byLabel = new Map<string, { calls: number; ms: number }>()
const onRun = (event: SessionRunEvent) => {
  const row = byLabel.get(event.label) ?? { calls: 0, ms: 0 }
  row.calls++
  row.ms += event.ms
  byLabel.set(event.label, row)
}
const loadStart = performance.now()
const pipeline = await loadPipeline(option('model', 'pigment-shapes'), { onRun })
const loadMs = performance.now() - loadStart
const { defaults } = pipeline.folder.manifest

async function once(seed: number, prompt: string) {
  await pipeline.generate({ ...defaults, prompt, model: pipeline.name, seed, n: 1 })
}

await once(0, 'a large red circle on a blue background, center') // warm-up (first runs allocate)
byLabel.clear()
const wall: number[] = []
const cpu: number[] = []
for (let i = 0; i < repeats; i++) {
  // a new prompt each time, so the prompt cache does not hide the text encoder
  const color = ['green', 'white', 'black', 'yellow', 'orange'][i % 5]
  const prompt = `a small ${color} star on a purple background, ${i % 2 ? 'top left' : 'bottom right'} ${i}`
  const c0 = process.cpuUsage()
  const t0 = performance.now()
  await once(i + 1, prompt)
  wall.push(performance.now() - t0)
  const c = process.cpuUsage(c0)
  cpu.push((c.user + c.system) / 1000)
}
await pipeline.dispose()

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
console.log(
  `pigment-shapes ${defaults.width}×${defaults.height}, ${defaults.steps} steps, cfg ${defaults.cfg}, ` +
    `${defaults.sampler}/${defaults.scheduler}; load ${loadMs.toFixed(0)} ms`,
)
console.log(
  `per image: wall median ${median(wall).toFixed(1)} ms, CPU median ${median(cpu).toFixed(1)} ms ` +
    `(process user+system, all threads)`,
)
for (const [label, row] of byLabel) {
  console.log(
    `  ${label.padEnd(12)} ${(row.calls / repeats).toFixed(0).padStart(3)} calls/image ` +
      `${(row.ms / repeats).toFixed(1).padStart(7)} ms/image`,
  )
}
console.log(median(cpu) < BUDGET_MS ? `within the ${BUDGET_MS} ms budget` : `OVER the ${BUDGET_MS} ms budget`)
