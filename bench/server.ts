/**
 * `npm run bench:server`: what the server adds around a generation. The real server (SQLite queue, one
 * worker, PNG encoding, local store, signed links) runs a pipeline that costs nothing and returns a fixed
 * 8×8 image, and answers synchronous POST /api/generations; a bare Fastify route returning a small JSON
 * body is measured in the same run, over the same loopback HTTP client. Prints generations per second,
 * p50/p99 latency of both, the latency Pigment adds, and the throughput ratio.
 *
 *   npm run bench:server [-- --requests 400 --concurrency 1,4]
 * @module
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import Fastify from 'fastify'
import { loadConfig } from '../src/config/load.js'
import type { ImageSettings } from '../src/core/generation-request.js'
import type { GenerateHooks, ImagePipeline, RawImage } from '../src/pipelines/pipeline.js'
import { writeTestModel } from '../src/pipelines/test-models/write-test-model.js'
import { composeServer } from '../src/server/compose.js'

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '400' },
    concurrency: { type: 'string', default: '1,4' },
    steps: { type: 'string', default: '4' },
  },
})
const REQUESTS = Number(values.requests)
const CONCURRENCY = values.concurrency.split(',').map(Number)
const STEPS = Number(values.steps)
const WARMUP = 50

/** Reports each step like a real pipeline, does no math, and returns one fixed 8×8 image per n. */
class FixedImagePipeline implements ImagePipeline {
  readonly name = 'fixed-8x8'
  readonly family = 'sd' as const
  readonly #rgb = new Uint8Array(8 * 8 * 3).fill(128)

  async generate(settings: ImageSettings, hooks: GenerateHooks = {}): Promise<RawImage[]> {
    const images: RawImage[] = []
    for (let image = 0; image < settings.n; image++) {
      for (let step = 1; step <= settings.steps; step++) {
        hooks.signal?.throwIfAborted()
        hooks.onProgress?.({ image, images: settings.n, step, steps: settings.steps })
      }
      images.push({ width: 8, height: 8, rgb: this.#rgb, seed: settings.seed + image })
    }
    return images
  }

  async dispose(): Promise<void> {}
}

interface Measurement {
  readonly perSecond: number
  readonly p50: number
  readonly p99: number
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
}

/** `total` requests from `concurrency` loops; latency per request in ms. */
async function measure(send: () => Promise<void>, total: number, concurrency: number): Promise<Measurement> {
  const latencies: number[] = []
  let next = 0
  const loop = async () => {
    while (next < total) {
      next++
      const started = performance.now()
      await send()
      latencies.push(performance.now() - started)
    }
  }
  const started = performance.now()
  await Promise.all(Array.from({ length: concurrency }, loop))
  const seconds = (performance.now() - started) / 1000
  latencies.sort((a, b) => a - b)
  return { perSecond: total / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99) }
}

async function post(url: string, body: string, expectStatus: number): Promise<void> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
  const text = await response.text()
  if (response.status !== expectStatus) throw new Error(`${url}: ${response.status} ${text.slice(0, 300)}`)
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'pigment-bench-server-'))
  const modelDir = join(dir, 'bench-model')
  // The folder only gives the catalog a manifest (defaults, limits); its ONNX files are never loaded.
  await writeTestModel({ family: 'sd', out: modelDir, seed: 1 })
  const config = {
    ...loadConfig({ env: {}, cwd: dir }),
    port: 0,
    dataDir: join(dir, 'data'),
    models: [modelDir],
    logLevel: 'silent' as const,
    queueLimit: 10_000,
  }
  const pigment = await composeServer(config, { loadPipeline: async () => new FixedImagePipeline() })
  const pigmentUrl = `${await pigment.listen()}/api/generations`

  const bare = Fastify({ logger: false })
  const fixedReply = { id: 'x'.repeat(26), state: 'succeeded', images: [{ url: 'http://127.0.0.1/x.png' }] }
  bare.post('/bare', async () => fixedReply)
  const bareUrl = `${await bare.listen({ host: '127.0.0.1', port: 0 })}/bare`

  const body = JSON.stringify({ prompt: 'bench', width: 64, height: 64, steps: STEPS, seed: 1 })
  const sendPigment = () => post(pigmentUrl, body, 200)
  const sendBare = () => post(bareUrl, body, 200)
  await measure(sendPigment, WARMUP, 1)
  await measure(sendBare, WARMUP, 1)

  console.log(
    `node ${process.version}, ${REQUESTS} sync requests per row, ${STEPS} steps, 8×8 PNG, 1 worker, SQLite`,
  )
  console.log('concurrency | route                 |   req/s |  p50 ms |  p99 ms')
  for (const concurrency of CONCURRENCY) {
    const b = await measure(sendBare, REQUESTS, concurrency)
    const p = await measure(sendPigment, REQUESTS, concurrency)
    const row = (name: string, m: Measurement) =>
      `${String(concurrency).padStart(11)} | ${name.padEnd(21)} | ${m.perSecond.toFixed(0).padStart(7)} | ${m.p50
        .toFixed(2)
        .padStart(7)} | ${m.p99.toFixed(2).padStart(7)}`
    console.log(row('bare Fastify', b))
    console.log(row('POST /api/generations', p))
    console.log(
      `${' '.repeat(11)} | added latency p50 ${(p.p50 - b.p50).toFixed(2)} ms, p99 ${(p.p99 - b.p99).toFixed(2)} ms; ` +
        `throughput ratio pigment/bare = ${(p.perSecond / b.perSecond).toFixed(3)} (bare is ${(b.perSecond / p.perSecond).toFixed(1)}× faster)`,
    )
  }

  await bare.close()
  await pigment.shutdown(5)
  rmSync(dir, { recursive: true, force: true })
}

await main()
