/**
 * `pigment serve --comfyui URL` against the protocol-faithful fake ComfyUI: the real server on a random
 * port, spoken to over HTTP through the native, RunPod and OpenAI dialects. Models come from the config file
 * (`comfyui.models`) and from a folder whose pigment.json says `backend: "comfyui"`.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readParameters } from '../../src/pipelines/encode/index.js'
import { type FakeComfyUI, fakeImageColor, startFakeComfyUI } from '../support/fake-comfyui/index.js'
import {
  type JobBody,
  pollJob,
  postJson,
  readEvents,
  type ServerProcess,
  startServer,
  tempDir,
} from './server-harness.js'

const FILES = {
  checkpoints: ['sd15.safetensors'],
  diffusion_models: ['chroma.safetensors'],
  text_encoders: ['t5xxl.safetensors'],
  vae: ['ae.safetensors'],
}

let comfy: FakeComfyUI
let server: ServerProcess

beforeAll(async () => {
  comfy = await startFakeComfyUI({ models: FILES, stepDelayMs: 2, previews: true })
  const dir = tempDir('comfyui')
  const folder = join(dir, 'sd-folder')
  mkdirSync(folder)
  writeFileSync(
    join(folder, 'pigment.json'),
    JSON.stringify({ backend: 'comfyui', template: 'checkpoint', files: { checkpoint: 'sd15.safetensors' } }),
  )
  const config = join(dir, 'pigment.config.json')
  writeFileSync(
    config,
    JSON.stringify({
      comfyui: {
        healthSeconds: 0.1,
        pollSeconds: 0.2,
        models: [
          {
            name: 'chroma',
            aliases: ['chroma-hd'],
            template: 'chroma',
            files: { unet: 'chroma.safetensors', t5: 't5xxl.safetensors', vae: 'ae.safetensors' },
            defaults: { steps: 4, width: 64, height: 64 },
          },
          {
            // a user's workflow naming a checkpoint this ComfyUI does not have
            name: 'missing',
            template: 'workflow',
            workflow: {
              '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'not-there.safetensors' } },
              '5': { class_type: 'EmptyLatentImage', inputs: { width: 64, height: 64, batch_size: 1 } },
              '6': { class_type: 'CLIPTextEncode', inputs: { clip: ['4', 1], text: '' } },
              '3': {
                class_type: 'KSampler',
                inputs: {
                  model: ['4', 0],
                  positive: ['6', 0],
                  negative: ['6', 0],
                  latent_image: ['5', 0],
                  seed: 0,
                  steps: 2,
                  cfg: 7,
                  sampler_name: 'euler',
                  scheduler: 'normal',
                  denoise: 1,
                },
              },
              '8': { class_type: 'VAEDecode', inputs: { samples: ['3', 0], vae: ['4', 2] } },
              '9': { class_type: 'SaveImage', inputs: { images: ['8', 0], filename_prefix: 'x' } },
            },
            inputs: { prompt: '6.text', seed: '3.seed' },
          },
        ],
      },
    }),
  )
  server = await startServer(
    [
      '--data-dir',
      join(dir, 'data'),
      '--config',
      config,
      '--comfyui',
      comfy.url,
      '--model',
      folder,
      '--max-attempts',
      '3',
      '--preview-every',
      '1',
    ],
    { PIGMENT_MODELS_DIR: tempDir('empty-cache') },
  )
}, 60_000)

afterAll(async () => {
  await server?.stop()
  await comfy?.close()
})

async function pixel(bytes: Uint8Array) {
  const { data } = await sharp(bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true })
  return { r: data[0], g: data[1], b: data[2] }
}

async function download(url: string): Promise<Uint8Array> {
  const response = await fetch(url)
  expect(response.status).toBe(200)
  return new Uint8Array(await response.arrayBuffer())
}

describe('pigment serve --comfyui', () => {
  it('offers the ComfyUI models like any other, in the native and OpenAI lists', async () => {
    const native = (await (await fetch(`${server.url}/api/models`)).json()) as {
      models: { name: string; aliases: string[]; isDefault: boolean }[]
    }
    expect(native.models.map((m) => m.name).sort()).toEqual(['chroma', 'missing', 'sd-folder'])
    expect(native.models.find((m) => m.name === 'chroma')?.aliases).toEqual(['chroma-hd'])
    const openai = (await (await fetch(`${server.url}/v1/models`)).json()) as { data: { id: string }[] }
    expect(openai.data.map((m) => m.id)).toEqual(expect.arrayContaining(['chroma', 'sd-folder']))
  })

  it('native: n images with seeds seed + i, re-encoded with the A1111 parameters', async () => {
    const response = await postJson(`${server.url}/api/generations`, {
      prompt: 'a red cube',
      model: 'chroma-hd',
      seed: 4242,
      n: 2,
      sampler: 'dpmpp_2m',
      scheduler: 'karras',
      outputFormat: 'webp',
    })
    expect(response.status).toBe(200)
    const job = (await response.json()) as JobBody
    expect(job.images).toHaveLength(2)
    for (const [i, image] of job.images.entries()) {
      const bytes = await download(image.url)
      expect((await sharp(bytes).metadata()).format).toBe('webp')
      expect(readParameters(bytes)).toMatchObject({
        seed: 4242 + i,
        sampler: 'dpmpp_2m',
        scheduler: 'karras',
      })
      const expected = fakeImageColor(4242 + i)
      const got = await pixel(bytes)
      // WebP is lossy: the colour is the seed's colour within a few levels
      for (const channel of ['r', 'g', 'b'] as const)
        expect(Math.abs(got[channel] - expected[channel])).toBeLessThan(8)
    }
  })

  it('native: progress and previews on the event stream', async () => {
    const response = await postJson(`${server.url}/api/generations`, {
      prompt: 'p',
      model: 'chroma',
      async: true,
    })
    const job = (await response.json()) as JobBody
    const events = await readEvents(`${server.url}/api/jobs/${job.id}/events`)
    const progress = events.filter((e) => e.event === 'progress')
    expect(progress.length).toBeGreaterThan(0)
    const steps = progress.map((e) => (e.data as { step: number }).step)
    // in ComfyUI's order, never backwards, ending on the last step
    expect(steps).toEqual([...steps].sort((x, y) => x - y))
    expect(progress.at(-1)?.data).toMatchObject({ step: 4, steps: 4 })
    const previews = progress.filter((e) =>
      String((e.data as { preview?: unknown }).preview).startsWith('data:image/png'),
    )
    expect(previews.length).toBeGreaterThan(0)
  })

  it('RunPod: runsync on the model, health, and the comfy passthrough with an uploaded image', async () => {
    const run = await postJson(`${server.url}/v2/sd-folder/runsync`, {
      input: { prompt: 'a red cube', width: 64, height: 64, steps: 3, seed: 7 },
    })
    const body = (await run.json()) as {
      status: string
      output: { presigned_urls: string[]; meta: { seed: number } }
    }
    expect(body.status).toBe('COMPLETED')
    expect(await pixel(await download(body.output.presigned_urls[0] ?? ''))).toEqual(fakeImageColor(7))

    const health = (await (await fetch(`${server.url}/v2/chroma/health`)).json()) as {
      workers: { unhealthy: number }
    }
    expect(health.workers.unhealthy).toBe(0)

    const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#ff0000' } })
      .png()
      .toBuffer()
    const passthrough = await postJson(`${server.url}/v2/chroma/runsync`, {
      input: {
        comfy: true,
        payload: {
          prompt: {
            '1': { class_type: 'LoadImage', inputs: { image: 'pigment-in.png' } },
            '2': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: 'passthrough' } },
          },
        },
        images: [{ name: 'pigment-in.png', image: png.toString('base64') }],
      },
    })
    const out = (await passthrough.json()) as {
      status: string
      output: { status: string; prompt_id: string; count: number; presigned_urls: string[] }
    }
    expect(out.status).toBe('COMPLETED')
    expect(out.output).toMatchObject({ status: 'ok', count: 1, prompt_id: expect.any(String) })
    expect(await pixel(await download(out.output.presigned_urls[0] ?? ''))).toEqual({ r: 255, g: 0, b: 0 })
  })

  it('OpenAI: a generation on a ComfyUI model', async () => {
    const response = await postJson(`${server.url}/v1/images/generations`, {
      prompt: 'a red cube',
      model: 'chroma',
      size: '64x64',
      response_format: 'b64_json',
    })
    expect(response.status).toBe(200)
    const body = (await response.json()) as { data: { b64_json: string }[] }
    const bytes = Buffer.from(body.data[0]?.b64_json ?? '', 'base64')
    expect(readParameters(bytes)?.prompt).toBe('a red cube')
  })

  it("ComfyUI's validation error: 400 naming the input and listing what that ComfyUI has", async () => {
    const native = await postJson(`${server.url}/api/generations`, { prompt: 'p', model: 'missing' })
    expect(native.status).toBe(400)
    const { error } = (await native.json()) as { error: { code: string; message: string } }
    expect(error.code).toBe('REQUEST_INVALID_PARAM')
    expect(error.message).toContain('ckpt_name')
    expect(error.message).toContain('sd15.safetensors')
    const openai = await postJson(`${server.url}/v1/images/generations`, { prompt: 'p', model: 'missing' })
    expect(openai.status).toBe(400)
    expect(((await openai.json()) as { error: { type: string } }).error.type).toBe('invalid_request_error')
  })

  it('cancel: the running prompt is interrupted and the job ends canceled', async () => {
    comfy.faults.hangNext = true
    const before = comfy.interrupts
    const response = await postJson(`${server.url}/api/generations`, {
      prompt: 'p',
      model: 'chroma',
      async: true,
    })
    const job = (await response.json()) as JobBody
    await pollJob(server.url, job.id, (j) => j.state === 'running')
    const prompts = comfy.prompts.length
    await expect.poll(() => comfy.prompts.length >= prompts).toBe(true)
    await fetch(`${server.url}/api/jobs/${job.id}/cancel`, { method: 'POST' })
    expect((await pollJob(server.url, job.id)).state).toBe('canceled')
    await expect.poll(() => comfy.interrupts > before).toBe(true)
  })

  it('a ComfyUI restart mid-job: the job is retried and succeeds', async () => {
    comfy.stepDelayMs = 1000
    const before = comfy.prompts.length
    const response = await postJson(`${server.url}/api/generations`, {
      prompt: 'p',
      model: 'chroma',
      seed: 31,
      async: true,
    })
    const job = (await response.json()) as JobBody
    await expect.poll(() => comfy.prompts.length > before, { timeout: 10_000 }).toBe(true)
    await comfy.restart()
    comfy.stepDelayMs = 2
    const done = await pollJob(server.url, job.id)
    expect(done.state).toBe('succeeded')
    expect(done.attempts).toBe(2)
    expect(await pixel(await download(done.images[0]?.url ?? ''))).toEqual(fakeImageColor(31))
  })

  it('ComfyUI down: unready in /readyz and RunPod health, generations 503 at once; back when it is', async () => {
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200)
    await comfy.stop()
    try {
      await expect
        .poll(async () => (await fetch(`${server.url}/readyz`)).status, { timeout: 10_000 })
        .toBe(503)
      const ready = (await (await fetch(`${server.url}/readyz`)).json()) as { checks: { model: string } }
      expect(ready.checks.model).toContain('chroma')
      const health = (await (await fetch(`${server.url}/v2/chroma/health`)).json()) as {
        workers: { ready: number; unhealthy: number }
      }
      expect(health.workers.ready).toBe(0)
      expect(health.workers.unhealthy).toBeGreaterThan(0)
      const native = await postJson(`${server.url}/api/generations`, { prompt: 'p', model: 'chroma' })
      expect(native.status).toBe(503)
      expect(((await native.json()) as { error: { message: string } }).error.message).toContain('ComfyUI')
      const runpod = await postJson(`${server.url}/v2/chroma/runsync`, { input: { prompt: 'p' } })
      expect(runpod.status).toBe(503)
    } finally {
      await comfy.start()
    }
    await expect.poll(async () => (await fetch(`${server.url}/readyz`)).status, { timeout: 10_000 }).toBe(200)
    const health = (await (await fetch(`${server.url}/v2/chroma/health`)).json()) as {
      workers: { unhealthy: number }
    }
    expect(health.workers.unhealthy).toBe(0)
  })
})
