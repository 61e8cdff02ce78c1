/**
 * `npm run bench:comfyui`: what Pigment adds per image in front of a ComfyUI, ComfyUI's own execution left
 * out. Against the fake ComfyUI (test/support/fake-comfyui), the same Chroma graph is run two ways, one after
 * the other, sequentially:
 *  - direct: a bare client as RunPod's worker-comfyui is (one websocket; POST /prompt, wait for
 *    `executing {node: null}`, GET /history, GET /view);
 *  - backend: the ComfyUI backend alone (its pipeline, then the PNG re-encoding with the A1111 parameters), which
 *    is what the backend adds to any ComfyUI run;
 *  - Pigment: the real server (SQLite queue, one worker, the ComfyUI backend, PNG re-encoding with the A1111
 *    parameters, local store, signed links) answering a synchronous POST /api/generations. Its share above the
 *    backend's is the server's fixed cost per job, the same for in-process models (see `bench:server`).
 * Prints the median and p90 of both, the milliseconds Pigment adds per image, and that as a share of a
 * 2-second job (the target is ≤ 2 %).
 *
 *   npm run bench:comfyui [-- --runs 40 --size 1024 --steps 4]
 * @module
 */
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import WebSocket from 'ws'
import { ComfyBackend } from '../src/comfyui/comfy-backend.js'
import { toComfyModel } from '../src/comfyui/model-entries.js'
import { loadConfig } from '../src/config/load.js'
import { encodeImage } from '../src/pipelines/encode/index.js'
import { composeServer } from '../src/server/compose.js'
import { startFakeComfyUI } from '../test/support/fake-comfyui/index.js'

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '40' },
    size: { type: 'string', default: '1024' },
    steps: { type: 'string', default: '4' },
  },
})
const RUNS = Number(values.runs)
const SIZE = Number(values.size)
const STEPS = Number(values.steps)
const WARMUP = 5
const JOB_MS = 2000

const FILES = { unet: 'chroma.safetensors', t5: 't5xxl.safetensors', vae: 'ae.safetensors' }

function graph(seed: number) {
  const node = (class_type: string, inputs: Record<string, unknown>) => ({ class_type, inputs })
  return {
    '1': node('UNETLoader', { unet_name: FILES.unet, weight_dtype: 'default' }),
    '3': node('CLIPLoader', { clip_name: FILES.t5, type: 'chroma', device: 'default' }),
    '4': node('T5TokenizerOptions', { clip: ['3', 0], min_padding: 0, min_length: 0 }),
    '5': node('CLIPTextEncode', { clip: ['4', 0], text: 'a red cube' }),
    '6': node('CLIPTextEncode', { clip: ['4', 0], text: '' }),
    '7': node('EmptySD3LatentImage', { width: SIZE, height: SIZE, batch_size: 1 }),
    '8': node('KSampler', {
      model: ['1', 0],
      positive: ['5', 0],
      negative: ['6', 0],
      latent_image: ['7', 0],
      seed,
      steps: STEPS,
      cfg: 3.5,
      sampler_name: 'euler',
      scheduler: 'beta',
      denoise: 1,
    }),
    '9': node('VAELoader', { vae_name: FILES.vae }),
    '10': node('VAEDecode', { samples: ['8', 0], vae: ['9', 0] }),
    '11': node('SaveImage', { images: ['10', 0], filename_prefix: `bench/${randomUUID()}` }),
  }
}

/** The bare client: what any program that drives ComfyUI has to do for one image. */
async function directClient(url: string) {
  const clientId = randomUUID()
  const socket = new WebSocket(`${url.replace('http', 'ws')}/ws?clientId=${clientId}`)
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject))
  const waiting = new Map<string, () => void>()
  socket.on('message', (data, binary) => {
    if (binary) return
    const message = JSON.parse(String(data)) as { type: string; data: { node?: unknown; prompt_id?: string } }
    if (message.type === 'executing' && message.data.node === null)
      waiting.get(message.data.prompt_id ?? '')?.()
  })
  return {
    async run(seed: number): Promise<number> {
      const started = performance.now()
      const promptId = randomUUID()
      const done = new Promise<void>((resolve) => waiting.set(promptId, resolve))
      const post = await fetch(`${url}/prompt`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ prompt: graph(seed), client_id: clientId, prompt_id: promptId }),
      })
      if (!post.ok) throw new Error(`POST /prompt ${post.status}: ${await post.text()}`)
      await done
      waiting.delete(promptId)
      const history = (await (await fetch(`${url}/history/${promptId}`)).json()) as Record<
        string,
        { outputs: Record<string, { images: { filename: string; subfolder: string; type: string }[] }> }
      >
      const image = history[promptId]?.outputs['11']?.images[0]
      if (image === undefined) throw new Error('no image in the history')
      const view = await fetch(`${url}/view?${new URLSearchParams(image)}`)
      await view.arrayBuffer()
      return performance.now() - started
    },
    close: () => socket.close(),
  }
}

function stats(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b)
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0
  return { p50: at(0.5), p90: at(0.9) }
}

async function main(): Promise<void> {
  // the fake caches nothing between these runs (every graph has its own seed and prefix)
  const comfy = await startFakeComfyUI({
    models: { diffusion_models: [FILES.unet], text_encoders: [FILES.t5], vae: [FILES.vae] },
    stepDelayMs: 1,
  })
  const dir = mkdtempSync(join(tmpdir(), 'pigment-bench-comfyui-'))
  const configFile = join(dir, 'config.json')
  writeFileSync(
    configFile,
    JSON.stringify({
      port: 0,
      dataDir: join(dir, 'data'),
      logLevel: 'silent',
      comfyui: {
        urls: [comfy.url],
        models: [{ name: 'chroma', template: 'chroma', files: FILES, limits: { maxSize: 4096 } }],
      },
    }),
  )
  const server = await composeServer(loadConfig({ configFile, env: {} }))
  const base = await server.listen()
  const direct = await directClient(comfy.url)
  const backend = new ComfyBackend({
    urls: [comfy.url],
    models: [toComfyModel({ name: 'chroma', template: 'chroma', files: FILES }, 'bench')],
  })
  await backend.start()
  const { pipeline } = await backend.acquire('chroma')
  const viaBackend = async (seed: number): Promise<number> => {
    const started = performance.now()
    const settings = {
      prompt: 'a red cube',
      negativePrompt: '',
      model: 'chroma',
      width: SIZE,
      height: SIZE,
      steps: STEPS,
      cfg: 3.5,
      sampler: 'euler',
      scheduler: 'beta',
      seed,
      n: 1,
    }
    const [image] = await pipeline.generate(settings, { onProgress: () => {} })
    if (image === undefined) throw new Error('no image')
    await encodeImage(image, { format: 'png', parameters: { ...settings, seed: image.seed } })
    return performance.now() - started
  }
  const viaPigment = async (seed: number): Promise<number> => {
    const started = performance.now()
    const response = await fetch(`${base}/api/generations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        prompt: 'a red cube',
        model: 'chroma',
        seed,
        width: SIZE,
        height: SIZE,
        steps: STEPS,
      }),
    })
    const body = (await response.json()) as { state?: string; images?: { url: string }[] }
    if (body.state !== 'succeeded') throw new Error(`generation ${JSON.stringify(body).slice(0, 300)}`)
    return performance.now() - started
  }
  try {
    let seed = 1
    const directTimes: number[] = []
    const backendTimes: number[] = []
    const pigmentTimes: number[] = []
    for (let i = 0; i < WARMUP; i++) {
      await direct.run(seed++)
      await viaBackend(seed++)
      await viaPigment(seed++)
    }
    // interleaved, so a slow moment of the machine falls on both
    for (let i = 0; i < RUNS; i++) {
      directTimes.push(await direct.run(seed++))
      backendTimes.push(await viaBackend(seed++))
      pigmentTimes.push(await viaPigment(seed++))
    }
    const d = stats(directTimes)
    const k = stats(backendTimes)
    const p = stats(pigmentTimes)
    const added = p.p50 - d.p50
    console.log(`bench:comfyui — ${RUNS} sequential images of ${SIZE}×${SIZE}, ${STEPS} steps, fake ComfyUI`)
    console.log(`  direct client      p50 ${d.p50.toFixed(1)} ms   p90 ${d.p90.toFixed(1)} ms`)
    console.log(`  backend + encode   p50 ${k.p50.toFixed(1)} ms   p90 ${k.p90.toFixed(1)} ms`)
    console.log(`  through Pigment    p50 ${p.p50.toFixed(1)} ms   p90 ${p.p90.toFixed(1)} ms`)
    console.log(`  the backend adds   ${(k.p50 - d.p50).toFixed(1)} ms per image (p50)`)
    console.log(`  Pigment adds       ${added.toFixed(1)} ms per image (p50), server included`)
    console.log(
      `  share of a ${JOB_MS / 1000}-second job: ${((added / JOB_MS) * 100).toFixed(2)} % (target ≤ 2 %)`,
    )
  } finally {
    direct.close()
    backend.close()
    await server.shutdown(1)
    await comfy.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

await main()
