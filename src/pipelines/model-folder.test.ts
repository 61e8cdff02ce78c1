import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isPigmentError, type PigmentError } from '../core/errors.js'
import { loadModelFolder } from './model-folder.js'
import {
  BUNDLED_MODELS_DIR,
  DEFAULT_MODEL_NAME,
  defaultModelDir,
  listModels,
  resolveModel,
} from './model-registry.js'
import { writeTestModel } from './test-models/write-test-model.js'

let root: string
let sd: string
let flow: string

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'pigment-folders-'))
  sd = join(root, 'cache', 'tiny-sd')
  flow = join(root, 'cache', 'tiny-flow')
  await writeTestModel({ family: 'sd', out: sd, seed: 1 })
  await writeTestModel({ family: 'flow', out: flow, seed: 1 })
})
afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})

async function loadError(dir: string): Promise<PigmentError> {
  try {
    await loadModelFolder(dir)
  } catch (error) {
    if (isPigmentError(error)) return error
    throw error
  }
  throw new Error(`${dir} loaded`)
}

async function copyWith(name: string, from: string, edit: (dir: string) => Promise<void>): Promise<string> {
  const dir = join(root, name)
  await cp(from, dir, { recursive: true })
  await edit(dir)
  return dir
}

describe('loadModelFolder', () => {
  it('infers an Optimum Stable Diffusion export with no manifest', async () => {
    const folder = await loadModelFolder(sd)
    expect(folder.source).toBe('optimum')
    expect(folder.manifest).toMatchObject({
      name: 'tiny-sd',
      family: 'sd',
      prediction: 'eps',
      latent: { channels: 4, scalingFactor: 0.18215 },
      defaults: { steps: 20, cfg: 7, sampler: 'euler', scheduler: 'normal' },
    })
    expect(folder.paths.denoiser).toBe(join(sd, 'unet/model.onnx'))
  })

  it('reads v-prediction and the beta schedule from scheduler_config.json', async () => {
    const dir = await copyWith('sd-v', sd, async (d) => {
      const file = join(d, 'scheduler/scheduler_config.json')
      const config = JSON.parse(await readFile(file, 'utf8'))
      await writeFile(file, JSON.stringify({ ...config, prediction_type: 'v_prediction', beta_end: 0.02 }))
    })
    const folder = await loadModelFolder(dir)
    expect(folder.manifest.prediction).toBe('v')
    expect(folder.manifest.sampling.betaEnd).toBe(0.02)
  })

  it('loads a manifest and fills family defaults', async () => {
    const folder = await loadModelFolder(flow)
    expect(folder.source).toBe('manifest')
    expect(folder.manifest).toMatchObject({
      name: 'pigment-test-flow',
      family: 'flow',
      text: { padding: 'tokens+eos+1pad' },
      latent: { channels: 16, scalingFactor: 0.3611, shiftFactor: 0.1159 },
      limits: { sizeMultiple: 16 },
    })
  })

  it('names the manifest file and the field on a bad value', async () => {
    const dir = await copyWith('bad-manifest', flow, async (d) => {
      const file = join(d, 'pigment.json')
      const manifest = JSON.parse(await readFile(file, 'utf8'))
      await writeFile(
        file,
        JSON.stringify({ ...manifest, defaults: { ...manifest.defaults, steps: 'many' } }),
      )
    })
    const error = await loadError(dir)
    expect(error.code).toBe('MODEL_INVALID')
    expect(error.field).toBe('defaults.steps')
    expect(error.message).toContain(join(dir, 'pigment.json'))
  })

  it('names the missing folder, tokenizer folder and ONNX file', async () => {
    const missing = await loadError(join(root, 'nope'))
    expect(missing.code).toBe('MODEL_NOT_FOUND')
    expect(missing.message).toContain(join(root, 'nope'))

    const noTokenizer = await copyWith('no-tokenizer', sd, (d) =>
      rm(join(d, 'tokenizer'), { recursive: true }),
    )
    const tokenizerError = await loadError(noTokenizer)
    expect(tokenizerError.message).toContain(join(noTokenizer, 'tokenizer'))

    const noUnet = await copyWith('no-unet', sd, (d) => rm(join(d, 'unet/model.onnx')))
    const unetError = await loadError(noUnet)
    expect(unetError.code).toBe('MODEL_LOAD_FAILED')
    expect(unetError.message).toContain(join(noUnet, 'unet/model.onnx'))
  })

  it('refuses layouts it cannot infer', async () => {
    const xl = await copyWith('sdxl', sd, (d) =>
      writeFile(join(d, 'model_index.json'), JSON.stringify({ _class_name: 'StableDiffusionXLPipeline' })),
    )
    expect((await loadError(xl)).message).toMatch(/StableDiffusionXLPipeline.*pigment\.json/)
    const empty = join(root, 'empty')
    await mkdir(empty)
    expect((await loadError(empty)).message).toMatch(/not a model folder/)
  })
})

describe('model registry', () => {
  it('resolves names in the models directory and paths anywhere', () => {
    const options = { modelsDir: join(root, 'cache') }
    expect(resolveModel('tiny-sd', options)).toBe(sd)
    expect(resolveModel(flow, options)).toBe(flow)
    expect(() => resolveModel('absent-model', options)).toThrow(/absent-model/)
  })

  it('hides the bundled models when told to, but still opens a bundled folder by path', async () => {
    const options = { modelsDir: join(root, 'cache') }
    expect(resolveModel(DEFAULT_MODEL_NAME, options)).toBe(join(BUNDLED_MODELS_DIR, DEFAULT_MODEL_NAME))
    expect(() => resolveModel(DEFAULT_MODEL_NAME, { ...options, bundled: false })).toThrow(
      `looked for ${join(root, 'cache', DEFAULT_MODEL_NAME)})`,
    )
    expect(defaultModelDir({ ...options, bundled: false })).toBeUndefined()
    const bundledPath = join(BUNDLED_MODELS_DIR, DEFAULT_MODEL_NAME)
    expect(resolveModel(bundledPath, { ...options, bundled: false })).toBe(bundledPath)
    const listed = await listModels({ ...options, bundled: false })
    expect(listed.map((m) => m.name)).toEqual(['tiny-flow', 'tiny-sd'])
  })

  it('lists the models in the models directory', async () => {
    const listed = await listModels({ modelsDir: join(root, 'cache') })
    expect(listed.filter((m) => m.source === 'cache')).toEqual([
      { name: 'tiny-flow', dir: flow, family: 'flow', source: 'cache' },
      { name: 'tiny-sd', dir: sd, family: 'sd', source: 'cache' },
    ])
  })
})

describe('a manifest beside an Optimum export', () => {
  it('overrides only what it states; the scheduler config still sets the prediction', async () => {
    const dir = join(root, 'sd-turbo-like')
    await cp(sd, dir, { recursive: true })
    const schedulerFile = join(dir, 'scheduler/scheduler_config.json')
    const config = JSON.parse(await readFile(schedulerFile, 'utf8'))
    await writeFile(schedulerFile, JSON.stringify({ ...config, prediction_type: 'v_prediction' }))
    await writeFile(
      join(dir, 'pigment.json'),
      JSON.stringify({ family: 'sd', defaults: { steps: 1, cfg: 1, sampler: 'euler_ancestral' } }),
    )
    const folder = await loadModelFolder(dir)
    expect(folder.source).toBe('manifest')
    expect(folder.manifest).toMatchObject({
      name: 'sd-turbo-like',
      prediction: 'v',
      defaults: { steps: 1, cfg: 1, sampler: 'euler_ancestral', scheduler: 'normal' },
    })
  })
})
