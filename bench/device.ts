/**
 * The same work on each execution device, alternated in one process: per-image time of a model through the
 * real pipeline (default: the bundled pigment-shapes at its defaults), and, with `--unet FILE`, the time of one
 * UNet call (batch 2 = one CFG step) of an exported SD-1.5-type graph fed at its declared shapes.
 * A device that fails its probe is reported with the reason and left out.
 *
 *   npx tsx bench/device.ts [--devices cpu,webgpu,cuda] [--model NAME|DIR] [--unet FILE --size 512] [--rounds 3]
 */
import { DEVICES, type Device } from '../src/core/devices.js'
import { loadPipeline } from '../src/pipelines/load-pipeline.js'
import { createSession, type Feed, type ModelSession, probeDevice } from '../src/pipelines/session.js'

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`)
  return at >= 0 ? process.argv[at + 1] : fallback
}

const rounds = Number(option('rounds', '3'))
const requested = option('devices', 'cpu,webgpu').split(',') as Device[]
for (const device of requested) {
  if (!DEVICES.includes(device)) throw new Error(`unknown device ${device} (choices: ${DEVICES.join(', ')})`)
}
const devices: Device[] = []
for (const device of requested) {
  try {
    await probeDevice(device)
    devices.push(device)
  } catch (error) {
    console.log(`${device}: left out — ${(error as Error).message}`)
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const summary = (xs: number[]) => `min ${Math.min(...xs).toFixed(1)} ms, median ${median(xs).toFixed(1)} ms`

/** Feeds of the graph's declared shapes, symbolic dims filled for one CFG step at `size` pixels. */
function unetFeeds(session: ModelSession, size: number): Record<string, Feed> {
  const symbolic: Record<string, number> = { batch: 2, height: size / 8, width: size / 8, sequence: 77 }
  const feeds: Record<string, Feed> = {}
  for (const spec of session.inputs) {
    const dims = spec.dims.map((d, i) =>
      typeof d === 'number' && d > 0 ? d : (symbolic[String(d)] ?? [2, 4, size / 8, size / 8][i] ?? 77),
    )
    if (spec.name === 'timestep') {
      feeds[spec.name] = { data: dims.length === 0 ? [500] : [500, 500], dims: dims.length === 0 ? [] : [2] }
      continue
    }
    const count = dims.reduce((a, b) => a * b, 1)
    const data = Float32Array.from({ length: count }, (_, k) => Math.sin(k * 0.37))
    feeds[spec.name] = { data, dims, constant: spec.name === 'encoder_hidden_states' }
  }
  return feeds
}

const unetFile = option('unet', '')
const model = option('model', 'pigment-shapes')
const size = Number(option('size', '512'))
const times = new Map<string, number[]>()
const record = (key: string, ms: number) => times.set(key, [...(times.get(key) ?? []), ms])

const pipelines = new Map(
  await Promise.all(devices.map(async (d) => [d, await loadPipeline(model, { device: d })] as const)),
)
const unets = new Map<Device, ModelSession>()
if (unetFile !== '') {
  for (const d of devices) unets.set(d, await createSession(unetFile, { device: d, label: 'unet' }))
}

for (let round = -1; round < rounds; round++) {
  for (const device of devices) {
    const pipeline = pipelines.get(device)
    if (pipeline === undefined) continue
    const { defaults } = pipeline.folder.manifest
    const t0 = performance.now()
    await pipeline.generate({
      ...defaults,
      prompt: `a red circle ${round}`,
      model: pipeline.name,
      seed: 1,
      n: 1,
    })
    if (round >= 0) record(`${device} ${model} image`, performance.now() - t0) // round -1 warms up
    const unet = unets.get(device)
    if (unet !== undefined) {
      const feeds = unetFeeds(unet, size)
      const t1 = performance.now()
      await unet.run(feeds)
      if (round >= 0) record(`${device} unet ${size}² step`, performance.now() - t1)
    }
  }
}
for (const [key, xs] of times) console.log(`${key}: ${summary(xs)} over ${xs.length} runs`)
for (const p of pipelines.values()) await p.dispose()
for (const u of unets.values()) await u.dispose()
