/**
 * End to end on the tiny random-weight models (generated into a temp folder, never committed): both families
 * through tokenizer, text encoder, sampler, denoiser and VAE to PNG bytes.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ImageSettings } from '../../src/core/generation-request.js'
import { encodeImage } from '../../src/pipelines/encode/index.js'
import { type LoadedPipeline, loadPipeline } from '../../src/pipelines/load-pipeline.js'
import type { PipelineProgress, RawImage } from '../../src/pipelines/pipeline.js'
import type { SessionRunEvent } from '../../src/pipelines/session.js'
import { writeTestModel } from '../../src/pipelines/test-models/write-test-model.js'

let root: string

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'pigment-pipelines-'))
  await writeTestModel({ family: 'sd', out: join(root, 'sd'), seed: 7 })
  await writeTestModel({ family: 'flow', out: join(root, 'flow'), seed: 7 })
})
afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})

const png = (image: RawImage) => encodeImage(image, { format: 'png' })

/** Loads a pipeline that records every denoiser/text-encoder run. */
async function open(family: 'sd' | 'flow', subfolder: string = family) {
  const runs: SessionRunEvent[] = []
  const pipeline = await loadPipeline(join(root, subfolder), { onRun: (e) => runs.push(e) })
  return { pipeline, runs }
}

const families = [
  // Chroma-style text: "a red circle" and "a blue square" are both 3 tokens + EOS + PAD, so they batch.
  { family: 'sd', scheduler: 'normal', size: 64 },
  { family: 'flow', scheduler: 'beta', size: 64 },
] as const

describe.each(families)('$family pipeline', ({ family, scheduler, size }) => {
  let pipeline: LoadedPipeline
  let runs: SessionRunEvent[]
  const base: ImageSettings = {
    prompt: 'a red circle',
    negativePrompt: 'a blue square',
    model: family,
    width: size,
    height: size,
    steps: 3,
    cfg: 4,
    sampler: 'euler',
    scheduler,
    seed: 1234,
    n: 1,
  }

  beforeAll(async () => {
    ;({ pipeline, runs } = await open(family))
  })
  afterAll(() => pipeline.dispose())

  it('makes byte-identical PNGs for the same seed, across pipeline instances', async () => {
    const [first] = await pipeline.generate(base)
    const other = await open(family)
    const [second] = await other.pipeline.generate(base)
    await other.pipeline.dispose()
    expect(first).toMatchObject({ width: size, height: size, seed: 1234 })
    expect(Buffer.compare(await png(first), await png(second))).toBe(0)
  })

  it('makes different images for different seeds, prompts and negative prompts', async () => {
    const [a] = await pipeline.generate(base)
    const [b] = await pipeline.generate({ ...base, seed: 1235 })
    const [c] = await pipeline.generate({ ...base, prompt: 'a green triangle' })
    const [d] = await pipeline.generate({ ...base, negativePrompt: 'a dog' })
    const [e] = await pipeline.generate({ ...base, steps: 4 })
    for (const other of [b, c, d, e]) expect(Buffer.from(other.rgb).equals(Buffer.from(a.rgb))).toBe(false)
  })

  it('gives image k of a batch at seed s the image of a single run at seed s + k', async () => {
    const batch = await pipeline.generate({ ...base, n: 3 })
    expect(batch.map((image) => image.seed)).toEqual([1234, 1235, 1236])
    const distinct = new Set(batch.map((image) => Buffer.from(image.rgb).toString('base64')))
    expect(distinct.size).toBe(3)
    for (const k of [1, 2]) {
      const [single] = await pipeline.generate({ ...base, seed: 1234 + k })
      expect(Buffer.compare(await png(batch[k]), await png(single))).toBe(0)
    }
  })

  it('runs the denoiser once per step: batch 1 at cfg 1, one batch-2 call otherwise', async () => {
    const denoiserBatches = async (cfg: number) => {
      runs.length = 0
      await pipeline.generate({
        ...base,
        cfg,
        prompt: `${cfg} a red circle`,
        negativePrompt: `${cfg} a blue square`,
      })
      return runs.filter((r) => r.label === 'denoiser').map((r) => r.inputs[0].dims[0])
    }
    expect(await denoiserBatches(1)).toEqual([1, 1, 1])
    expect(await denoiserBatches(5)).toEqual([2, 2, 2])
  })

  it('encodes a prompt once and reuses it', async () => {
    const prompt = 'a yellow sun'
    runs.length = 0
    await pipeline.generate({ ...base, prompt, cfg: 1 })
    await pipeline.generate({ ...base, prompt, cfg: 1, seed: 5 })
    expect(runs.filter((r) => r.label === 'textEncoder')).toHaveLength(1)
  })

  it('reports progress per image and step, with previews every k steps', async () => {
    const events: PipelineProgress[] = []
    await pipeline.generate(
      { ...base, n: 2, steps: 4 },
      { onProgress: (p) => events.push(p), previewEvery: 2 },
    )
    expect(events.map((e) => `${e.image}:${e.step}/${e.steps}`)).toEqual([
      '0:1/4',
      '0:2/4',
      '0:3/4',
      '0:4/4',
      '1:1/4',
      '1:2/4',
      '1:3/4',
      '1:4/4',
    ])
    const previews = events.filter((e) => e.preview)
    expect(previews.map((e) => e.step)).toEqual([2, 4, 2, 4])
    expect(previews[0].preview).toMatchObject({ width: size / 8, height: size / 8 })
    expect(previews[0].preview?.rgb).toHaveLength((size / 8) * (size / 8) * 3)
  })

  it('stops at a step boundary when the signal aborts', async () => {
    const controller = new AbortController()
    const steps: number[] = []
    const run = pipeline.generate(
      { ...base, steps: 10 },
      {
        signal: controller.signal,
        onProgress: (p) => {
          steps.push(p.step)
          if (p.step === 2) controller.abort(new Error('canceled by the test'))
        },
      },
    )
    await expect(run).rejects.toThrow('canceled by the test')
    expect(steps).toEqual([1, 2])
  })

  it('runs a stochastic sampler reproducibly', async () => {
    const settings = { ...base, sampler: 'euler_ancestral', scheduler: 'karras' }
    const [a] = await pipeline.generate(settings)
    const [b] = await pipeline.generate(settings)
    expect(Buffer.from(a.rgb).equals(Buffer.from(b.rgb))).toBe(true)
  })

  it('names the parameter it rejects', async () => {
    const rejects = (settings: Partial<ImageSettings>, field: string) =>
      expect(pipeline.generate({ ...base, ...settings })).rejects.toMatchObject({
        code: 'REQUEST_INVALID_PARAM',
        field,
      })
    await rejects({ width: size + 4 }, 'width')
    await rejects({ height: 8 }, 'height')
    await rejects({ steps: 0 }, 'steps')
    await rejects({ cfg: 31 }, 'cfg')
    await rejects({ sampler: 'euler_b' }, 'sampler')
    await rejects({ scheduler: 'fancy' }, 'scheduler')
  })
})

describe('pipeline specifics', () => {
  it('flow: requires sizes in multiples of 16', async () => {
    const { pipeline } = await open('flow')
    await expect(
      pipeline.generate({
        prompt: 'a cat',
        negativePrompt: '',
        model: 'flow',
        width: 72,
        height: 64,
        steps: 2,
        cfg: 1,
        sampler: 'euler',
        scheduler: 'simple',
        seed: 1,
        n: 1,
      }),
    ).rejects.toMatchObject({ field: 'width', message: expect.stringMatching(/multiple of 16/) })
    await pipeline.dispose()
  })

  it('flow: prompts of different token lengths take two batch-1 calls per step', async () => {
    const { pipeline, runs } = await open('flow')
    await pipeline.generate({
      prompt: 'a photo of a red circle in the sky',
      negativePrompt: 'blurry',
      model: 'flow',
      width: 32,
      height: 32,
      steps: 2,
      cfg: 3,
      sampler: 'euler',
      scheduler: 'simple',
      seed: 1,
      n: 1,
    })
    const denoiser = runs.filter((r) => r.label === 'denoiser')
    expect(denoiser.map((r) => r.inputs[0].dims[0])).toEqual([1, 1, 1, 1])
    // tokens + EOS + one PAD: "blurry" is 1 token → 3 text positions
    expect(denoiser.map((r) => r.inputs.find((i) => i.name === 'txt_ids')?.dims[0])).toContain(3)
    await pipeline.dispose()
  })

  it('sd: casts the timestep to whatever the UNet declares (scalar float, [B] float, [B] int64)', async () => {
    await writeTestModel({ family: 'sd', out: join(root, 'sd-b'), seed: 7, timestep: 'float32' })
    await writeTestModel({
      family: 'sd',
      out: join(root, 'sd-int'),
      seed: 7,
      timestep: 'int64',
      inputIds: 'int32',
    })
    const settings: ImageSettings = {
      prompt: 'a cat',
      negativePrompt: 'a dog',
      model: 'sd',
      width: 64,
      height: 64,
      steps: 3,
      cfg: 6,
      sampler: 'dpmpp_2m',
      scheduler: 'karras',
      seed: 99,
      n: 1,
    }
    const images: Buffer[] = []
    for (const folder of ['sd', 'sd-b', 'sd-int']) {
      const { pipeline, runs } = await open('sd', folder)
      const [image] = await pipeline.generate(settings)
      images.push(await png(image))
      const timestep = runs.find((r) => r.label === 'denoiser')?.inputs.find((i) => i.name === 'timestep')
      expect(timestep).toMatchObject(
        folder === 'sd'
          ? { dtype: 'float32', dims: [] }
          : { dtype: folder === 'sd-b' ? 'float32' : 'int64', dims: [2] },
      )
      await pipeline.dispose()
    }
    // ComfyUI's timestep(σ) is a whole number, so every variant computes the same image.
    expect(Buffer.compare(images[0], images[1])).toBe(0)
    expect(Buffer.compare(images[0], images[2])).toBe(0)
  })

  it('flow: feeds CLIP pooled embeddings and distilled guidance to a FLUX-style transformer', async () => {
    await writeTestModel({ family: 'flow', out: join(root, 'flux'), seed: 7, flux: true })
    const { pipeline, runs } = await open('flow', 'flux')
    const settings: ImageSettings = {
      prompt: 'a red circle',
      negativePrompt: 'a photo of a blurry dog',
      model: 'flux',
      width: 32,
      height: 32,
      steps: 2,
      cfg: 2,
      sampler: 'euler',
      scheduler: 'simple',
      seed: 3,
      n: 1,
    }
    const [a] = await pipeline.generate(settings)
    const [b] = await pipeline.generate({ ...settings, prompt: 'a blue circle' })
    expect(Buffer.from(a.rgb).equals(Buffer.from(b.rgb))).toBe(false)
    expect(runs.filter((r) => r.label === 'clipTextEncoder').length).toBeGreaterThan(0)
    const call = runs.find((r) => r.label === 'denoiser')
    // max_length padding gives every prompt the same length, so cond and uncond share one batch-2 call
    expect(call?.inputs.find((i) => i.name === 'pooled_projections')?.dims).toEqual([2, 32])
    expect(call?.inputs.find((i) => i.name === 'guidance')?.dims).toEqual([2])
    expect(call?.inputs.find((i) => i.name === 'encoder_hidden_states')?.dims).toEqual([2, 32, 32])
    await pipeline.dispose()
  })

  it('flow: names the missing CLIP components when the transformer takes pooled_projections', async () => {
    const dir = join(root, 'flux-no-clip')
    await writeTestModel({ family: 'flow', out: dir, seed: 7, flux: true })
    const manifestFile = join(dir, 'pigment.json')
    const manifest = JSON.parse(await readFile(manifestFile, 'utf8'))
    const { clipTokenizer: _t, clipTextEncoder: _e, ...components } = manifest.components
    await writeFile(manifestFile, JSON.stringify({ ...manifest, components }))
    await expect(loadPipeline(dir)).rejects.toMatchObject({
      code: 'MODEL_INVALID',
      message: expect.stringContaining('components.clipTextEncoder'),
    })
  })
})
