/**
 * `npm run bench:engine`: how much of a generation is Pigment's own work. Builds a random sd-family model large
 * enough that onnxruntime dominates (a ~64 M-parameter UNet working on 8×8 latent patches), runs the full
 * pipeline at 512×512, and compares the pipeline's wall time with the sum of onnxruntime `session.run` times
 * of the same calls. Overhead = (wall − run) / wall; the target is ≤ 5 %.
 *
 * Options: --steps N (6) --size PX (512) --runs N (3) --cfg X (7) --sampler NAME (euler) --hidden N (2048)
 * --blocks N (15) --device cpu|cuda
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import { loadPipeline } from '../src/pipelines/load-pipeline.js'
import type { Device } from '../src/pipelines/session.js'
import { writeTestModel } from '../src/pipelines/test-models/write-test-model.js'

const { values } = parseArgs({
  options: {
    steps: { type: 'string', default: '6' },
    size: { type: 'string', default: '512' },
    runs: { type: 'string', default: '3' },
    cfg: { type: 'string', default: '7' },
    sampler: { type: 'string', default: 'euler' },
    hidden: { type: 'string', default: '2048' },
    blocks: { type: 'string', default: '15' },
    device: { type: 'string', default: 'cpu' },
  },
})
const steps = Number(values.steps)
const size = Number(values.size)
const runs = Number(values.runs)
const hidden = Number(values.hidden)
const blocks = Number(values.blocks)

const dir = await mkdtemp(join(tmpdir(), 'pigment-bench-'))
try {
  const started = performance.now()
  const written = await writeTestModel({
    family: 'sd',
    out: dir,
    seed: 1,
    unet: { hidden, blocks, patch: 8 },
  })
  const unetParams = blocks * hidden * hidden + 2 * 256 * hidden
  console.log(
    `model: ${(written.bytes / 1e6).toFixed(0)} MB, UNet ≈ ${(unetParams / 1e6).toFixed(1)} M parameters ` +
      `(written in ${((performance.now() - started) / 1000).toFixed(1)} s)`,
  )

  let runMs = 0
  const calls = new Map<string, number>()
  const pipeline = await loadPipeline(dir, {
    device: values.device as Device,
    onRun: (event) => {
      runMs += event.ms
      calls.set(event.label, (calls.get(event.label) ?? 0) + 1)
    },
  })
  const settings = {
    prompt: 'a photo of a red circle on a blue square',
    negativePrompt: 'blurry',
    model: pipeline.name,
    width: size,
    height: size,
    steps,
    cfg: Number(values.cfg),
    sampler: values.sampler,
    scheduler: 'normal',
    seed: 1,
    n: 1,
  }

  // The first run pays onnxruntime's warm-up (allocations, kernel selection); it is reported but not counted.
  const rows: { wall: number; run: number }[] = []
  for (let r = 0; r <= runs; r++) {
    runMs = 0
    calls.clear()
    const t0 = performance.now()
    await pipeline.generate({ ...settings, prompt: `${settings.prompt} ${r}` })
    const wall = performance.now() - t0
    const overhead = ((wall - runMs) / wall) * 100
    const label = r === 0 ? 'warm-up' : `run ${r}`
    const counts = [...calls].map(([name, n]) => `${name}×${n}`).join(' ')
    console.log(
      `${label.padEnd(8)} wall ${wall.toFixed(0).padStart(6)} ms  session.run ${runMs.toFixed(0).padStart(6)} ms  overhead ${overhead.toFixed(2).padStart(5)} %  (${counts})`,
    )
    if (r > 0) rows.push({ wall, run: runMs })
  }
  const wall = rows.reduce((s, r) => s + r.wall, 0)
  const run = rows.reduce((s, r) => s + r.run, 0)
  console.log(
    `\n${size}×${size}, ${steps} steps, cfg ${settings.cfg}, ${settings.sampler}: pipeline overhead ` +
      `${(((wall - run) / wall) * 100).toFixed(2)} % over ${runs} runs (wall ${(wall / runs).toFixed(0)} ms/run, ` +
      `onnxruntime ${(run / runs).toFixed(0)} ms/run)`,
  )
  await pipeline.dispose()
} finally {
  await rm(dir, { recursive: true, force: true })
}
