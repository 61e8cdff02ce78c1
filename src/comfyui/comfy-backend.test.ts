// The ComfyUI backend against the protocol-faithful fake: what a job sees (images by seed, progress, previews)
// and what ComfyUI sees (one prompt per image, deletes and interrupts), and every fault the issue lists.
import { afterEach, describe, expect, it } from 'vitest'
import { type FakeComfyUI, fakeImageColor, startFakeComfyUI } from '../../test/support/fake-comfyui/index.js'
import type { ImageSettings } from '../core/generation-request.js'
import type { PipelineProgress, RawImage } from '../pipelines/pipeline.js'
import { ComfyBackend } from './comfy-backend.js'
import { type ComfyModel, toComfyModel } from './model-entries.js'

const FILES = {
  checkpoints: ['sd15.safetensors'],
  diffusion_models: ['chroma.safetensors'],
  text_encoders: ['t5xxl.safetensors'],
  vae: ['ae.safetensors'],
}
const CHROMA = toComfyModel(
  {
    name: 'chroma',
    template: 'chroma',
    files: { unet: 'chroma.safetensors', t5: 't5xxl.safetensors', vae: 'ae.safetensors' },
  },
  'test',
)
const SD = toComfyModel(
  { name: 'sd15', template: 'checkpoint', files: { checkpoint: 'sd15.safetensors' } },
  'test',
)
const MISSING = toComfyModel(
  { name: 'gone', template: 'checkpoint', files: { checkpoint: 'nope.safetensors' } },
  'test',
)

const fakes: FakeComfyUI[] = []
const backends: ComfyBackend[] = []

afterEach(async () => {
  for (const backend of backends.splice(0)) backend.close()
  await Promise.all(fakes.splice(0).map((fake) => fake.close()))
})

async function fake(options: Parameters<typeof startFakeComfyUI>[0] = {}): Promise<FakeComfyUI> {
  const started = await startFakeComfyUI({ models: FILES, stepDelayMs: 1, ...options })
  fakes.push(started)
  return started
}

async function backend(
  urls: string[],
  models: ComfyModel[] = [CHROMA, SD, MISSING],
  slots = 1,
): Promise<ComfyBackend> {
  const created = new ComfyBackend({
    urls,
    models,
    slots,
    healthMs: 50,
    timing: { pollMs: 50, unreachableMs: 500 },
  })
  backends.push(created)
  await created.start()
  return created
}

function settings(overrides: Partial<ImageSettings> = {}): ImageSettings {
  return {
    prompt: 'a red cube',
    negativePrompt: 'blurry',
    model: 'chroma',
    width: 64,
    height: 64,
    steps: 3,
    cfg: 3.5,
    sampler: 'dpmpp_2m',
    scheduler: 'karras',
    seed: 1000,
    n: 1,
    ...overrides,
  }
}

async function generate(b: ComfyBackend, model: string, s: ImageSettings, hooks = {}): Promise<RawImage[]> {
  const handle = await b.acquire(model)
  try {
    return await handle.pipeline.generate(s, hooks)
  } finally {
    handle.release()
  }
}

const colour = (image: RawImage) => ({ r: image.rgb[0], g: image.rgb[1], b: image.rgb[2] })

const until = async (check: () => boolean, ms = 5000) => {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

describe('ComfyUI backend', () => {
  it("runs ComfyUI's Chroma graph once per image, image i with seed + i, sampler and scheduler as given", async () => {
    const comfy = await fake()
    const b = await backend([comfy.url])
    const progress: PipelineProgress[] = []
    const images = await generate(b, 'chroma', settings({ n: 2 }), {
      onProgress: (p: PipelineProgress) => progress.push(p),
    })

    expect(images.map((image) => image.seed)).toEqual([1000, 1001])
    expect(images.map(colour)).toEqual([fakeImageColor(1000), fakeImageColor(1001)])
    expect(comfy.prompts).toHaveLength(2)
    const graph = comfy.prompts[0]?.graph as Record<
      string,
      { class_type: string; inputs: Record<string, unknown> }
    >
    expect(
      Object.values(graph)
        .map((node) => node.class_type)
        .sort(),
    ).toEqual(
      [
        'CLIPLoader',
        'CLIPTextEncode',
        'CLIPTextEncode',
        'EmptySD3LatentImage',
        'KSampler',
        'SaveImage',
        'T5TokenizerOptions',
        'UNETLoader',
        'VAEDecode',
        'VAELoader',
      ].sort(),
    )
    const loader = Object.values(graph).find((node) => node.class_type === 'CLIPLoader')
    expect(loader?.inputs.type).toBe('chroma')
    const sampler = Object.values(graph).find((node) => node.class_type === 'KSampler')
    expect(sampler?.inputs).toMatchObject({
      seed: 1000,
      sampler_name: 'dpmpp_2m',
      scheduler: 'karras',
      steps: 3,
    })
    expect(progress.filter((p) => p.image === 1).at(-1)).toMatchObject({
      image: 1,
      images: 2,
      step: 3,
      steps: 3,
    })
  })

  it('turns binary preview frames into previews', async () => {
    const comfy = await fake({ previews: true })
    const b = await backend([comfy.url])
    const previews: PipelineProgress[] = []
    await generate(b, 'sd15', settings({ model: 'sd15' }), {
      previewEvery: 1,
      onProgress: (p: PipelineProgress) => {
        if (p.preview !== undefined) previews.push(p)
      },
    })
    expect(previews.length).toBeGreaterThan(0)
    const preview = previews[0]?.preview
    expect(preview?.rgb.length).toBe((preview?.width ?? 0) * (preview?.height ?? 0) * 3)
  })

  it('interrupts a running prompt and deletes a waiting one when the job is canceled', async () => {
    const comfy = await fake()
    comfy.faults.hangNext = true
    const b = await backend([comfy.url], [SD], 2)
    const running = new AbortController()
    const waiting = new AbortController()
    const first = generate(b, 'sd15', settings({ model: 'sd15' }), { signal: running.signal })
    await until(() => comfy.prompts.length === 1)
    const second = generate(b, 'sd15', settings({ model: 'sd15', seed: 5 }), { signal: waiting.signal })
    await until(() => comfy.prompts.length === 2)
    const waitingId = comfy.prompts[1]?.promptId
    waiting.abort(new Error('canceled by the user'))
    await expect(second).rejects.toThrow('canceled by the user')
    await until(() => comfy.deletes.includes(waitingId ?? ''))
    running.abort(new Error('canceled too'))
    await expect(first).rejects.toThrow('canceled too')
    await until(() => comfy.interrupts > 0)
  })

  it('names the input ComfyUI rejected and lists the files it has', async () => {
    const comfy = await fake()
    const b = await backend([comfy.url])
    const error = await generate(b, 'gone', settings({ model: 'gone' })).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'REQUEST_INVALID_PARAM', httpStatus: 400 })
    expect((error as Error).message).toContain('ckpt_name')
    expect((error as Error).message).toContain('sd15.safetensors')
    expect(b.readiness('gone')).toMatchObject({ ready: false })
    expect(b.readiness('gone').reason).toContain('sd15.safetensors')
  })

  it('retries smaller after a CUDA out-of-memory when the caller allows it, else fails with MODEL_OUT_OF_MEMORY', async () => {
    const comfy = await fake()
    const b = await backend([comfy.url])
    comfy.faults.oomNext = 1
    const images = await generate(b, 'chroma', settings({ width: 512, height: 512 }), {
      allowDownscaleOnOom: true,
    })
    expect(images[0]?.downscaledFrom).toEqual({ width: 512, height: 512 })
    expect(images[0]?.width).toBeLessThan(512)
    comfy.faults.oomNext = 1
    await expect(generate(b, 'chroma', settings())).rejects.toMatchObject({ code: 'MODEL_OUT_OF_MEMORY' })
  })

  it("fails with ComfyUI's message on any other execution error", async () => {
    const comfy = await fake()
    const b = await backend([comfy.url])
    comfy.faults.failNext = { type: 'RuntimeError', message: 'mat1 and mat2 shapes cannot be multiplied' }
    const error = await generate(b, 'chroma', settings()).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'COMFYUI_EXECUTION_FAILED', retryable: false })
    expect((error as Error).message).toContain('mat1 and mat2 shapes cannot be multiplied')
  })

  it('reports a prompt lost to a ComfyUI restart as retryable', async () => {
    const comfy = await fake({ stepDelayMs: 1000 })
    const b = await backend([comfy.url])
    const run = generate(b, 'chroma', settings())
    await until(() => comfy.prompts.length === 1)
    await comfy.restart()
    comfy.stepDelayMs = 1
    await expect(run).rejects.toMatchObject({ code: 'UNAVAILABLE', retryable: true })
    // and the next job runs once ComfyUI is back
    await until(() => b.readiness('chroma').ready)
    expect(await generate(b, 'chroma', settings())).toHaveLength(1)
  })

  it('finishes through /history when the websocket stays silent', async () => {
    const comfy = await fake()
    comfy.faults.silentWebsocket = true
    const b = await backend([comfy.url])
    const images = await generate(b, 'chroma', settings({ seed: 77 }))
    expect(images.map(colour)).toEqual([fakeImageColor(77)])
  })

  it('gives up on a hung prompt at its deadline and stops it', async () => {
    const comfy = await fake()
    comfy.faults.hangNext = true
    const b = new ComfyBackend({
      urls: [comfy.url],
      models: [CHROMA],
      healthMs: 50,
      timing: { pollMs: 20, deadlineMs: 300 },
    })
    backends.push(b)
    await b.start()
    await expect(generate(b, 'chroma', settings())).rejects.toMatchObject({ code: 'REQUEST_TIMEOUT' })
    await until(() => comfy.interrupts > 0)
  })

  it('answers 503 at once while no ComfyUI is reachable, and recovers when one comes back', async () => {
    const comfy = await fake()
    await comfy.stop()
    const b = await backend([comfy.url])
    expect(b.readiness('chroma')).toMatchObject({ ready: false })
    expect(b.readiness('chroma').reason).toContain('not reachable')
    expect(() => b.assertAvailable('chroma')).toThrow(expect.objectContaining({ httpStatus: 503 }))
    await expect(generate(b, 'chroma', settings())).rejects.toMatchObject({ code: 'UNAVAILABLE' })
    await comfy.start()
    await until(() => b.readiness('chroma').ready)
    expect(await generate(b, 'chroma', settings())).toHaveLength(1)
  })

  it('sends a job to a ComfyUI that has its model, and past one that is down', async () => {
    const without = await fake({ models: { checkpoints: ['other.safetensors'] } })
    const down = await fake()
    const up = await fake()
    await down.stop()
    const b = await backend([without.url, down.url, up.url])
    await generate(b, 'sd15', settings({ model: 'sd15' }))
    await generate(b, 'chroma', settings())
    expect(without.prompts).toHaveLength(0)
    expect(up.prompts).toHaveLength(2)
  })

  it("fills a user's workflow at the inputs its entry names", async () => {
    const comfy = await fake()
    const workflow = {
      '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'sd15.safetensors' } },
      '5': { class_type: 'EmptyLatentImage', inputs: { width: 512, height: 512, batch_size: 1 } },
      '6': { class_type: 'CLIPTextEncode', inputs: { clip: ['4', 1], text: '' } },
      '7': { class_type: 'CLIPTextEncode', inputs: { clip: ['4', 1], text: '' } },
      '3': {
        class_type: 'KSampler',
        inputs: {
          model: ['4', 0],
          positive: ['6', 0],
          negative: ['7', 0],
          latent_image: ['5', 0],
          seed: 0,
          steps: 20,
          cfg: 8,
          sampler_name: 'euler',
          scheduler: 'normal',
          denoise: 1,
        },
      },
      '8': { class_type: 'VAEDecode', inputs: { samples: ['3', 0], vae: ['4', 2] } },
      '9': { class_type: 'SaveImage', inputs: { images: ['8', 0], filename_prefix: 'ComfyUI' } },
    }
    const mine = toComfyModel(
      {
        name: 'mine',
        template: 'workflow',
        workflow,
        inputs: {
          prompt: '6.text',
          negativePrompt: '7.text',
          seed: '3.seed',
          steps: '3.steps',
          width: '5.width',
          height: '5.height',
        },
      },
      'test',
    )
    const b = await backend([comfy.url], [mine])
    const images = await generate(b, 'mine', settings({ model: 'mine', seed: 9, steps: 2 }))
    expect(images.map(colour)).toEqual([fakeImageColor(9)])
    const graph = comfy.prompts[0]?.graph as typeof workflow
    expect(graph['6'].inputs.text).toBe('a red cube')
    expect(graph['7'].inputs.text).toBe('blurry')
    expect(graph['3'].inputs).toMatchObject({ seed: 9, steps: 2, cfg: 8 })
    expect(graph['5'].inputs).toMatchObject({ width: 64, height: 64 })
    expect(() =>
      toComfyModel(
        { name: 'bad', template: 'workflow', workflow, inputs: { prompt: '6.txt', seed: '3.seed' } },
        'test',
      ),
    ).toThrow(/no input "txt"/)
  })
})
