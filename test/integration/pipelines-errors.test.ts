/**
 * Broken model folders fail with catalog errors that name the file or folder at fault.
 */
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isPigmentError, type PigmentError } from '../../src/core/errors.js'
import type { ImageSettings } from '../../src/core/generation-request.js'
import { loadPipeline } from '../../src/pipelines/load-pipeline.js'
import { GraphBuilder } from '../../src/pipelines/test-models/graph-builder.js'
import { writeTestModel } from '../../src/pipelines/test-models/write-test-model.js'

let root: string
let sd: string

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'pigment-broken-'))
  sd = join(root, 'sd')
  await writeTestModel({ family: 'sd', out: sd, seed: 2 })
})
afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})

const settings: ImageSettings = {
  prompt: 'a cat',
  negativePrompt: '',
  model: 'broken',
  width: 64,
  height: 64,
  steps: 2,
  cfg: 1,
  sampler: 'euler',
  scheduler: 'normal',
  seed: 1,
  n: 1,
}

async function failure(run: () => Promise<unknown>): Promise<PigmentError> {
  try {
    await run()
  } catch (error) {
    if (isPigmentError(error)) return error
    throw error
  }
  throw new Error('expected a failure')
}

/** A copy of the sd test model with one change. */
async function broken(name: string, edit: (dir: string) => Promise<void>): Promise<string> {
  const dir = join(root, name)
  await cp(sd, dir, { recursive: true })
  await edit(dir)
  return dir
}

/** A UNet with the right input names but `sample` declared as [B, C, h·w] (rank 3) or with 9 channels. */
function oddUnet(sampleDims: (number | string)[]): Uint8Array {
  const g = new GraphBuilder('unet')
  const sample = g.input('sample', 'float32', sampleDims)
  const timestep = g.input('timestep', 'float32', [])
  const text = g.input('encoder_hidden_states', 'float32', ['batch_size', 'sequence_length', 32])
  const pooled = g.node('ReduceMean', [text], { axes: { ints: [1, 2] }, keepdims: { i: 0 } })
  const shift = g.node('Add', [pooled, timestep])
  const axes = g.int64s(sampleDims.length === 3 ? [1, 2] : [1, 2, 3])
  g.node('Add', [sample, g.node('Unsqueeze', [shift, axes])], {}, ['out_sample'])
  g.output('out_sample', 'float32', sampleDims)
  return g.toBytes()
}

describe('broken model folders', () => {
  it('names a model folder that does not exist', async () => {
    const error = await failure(() => loadPipeline(join(root, 'missing-model')))
    expect(error.code).toBe('MODEL_NOT_FOUND')
    expect(error.message).toContain(join(root, 'missing-model'))
  })

  it('names a corrupt ONNX file', async () => {
    const dir = await broken('corrupt', (d) => writeFile(join(d, 'unet/model.onnx'), 'not an onnx model'))
    const error = await failure(() => loadPipeline(dir))
    expect(error.code).toBe('MODEL_LOAD_FAILED')
    expect(error.message).toContain(join(dir, 'unet/model.onnx'))
  })

  it('names the file, the input and both shapes when a graph takes another rank', async () => {
    const dir = await broken('rank', (d) =>
      writeFile(join(d, 'unet/model.onnx'), oddUnet(['batch_size', 4, 'pixels'])),
    )
    const pipeline = await loadPipeline(dir)
    const error = await failure(() => pipeline.generate(settings))
    await pipeline.dispose()
    expect(error.code).toBe('MODEL_INPUT_MISMATCH')
    expect(error.message).toContain(join(dir, 'unet/model.onnx'))
    expect(error.message).toContain('"sample"')
    expect(error.message).toContain('[batch_size, 4, pixels]')
    expect(error.message).toContain('[1, 4, 8, 8]')
  })

  it('refuses a UNet whose latent channels differ from the model', async () => {
    const dir = await broken('channels', (d) =>
      writeFile(join(d, 'unet/model.onnx'), oddUnet(['batch_size', 9, 'height', 'width'])),
    )
    const error = await failure(() => loadPipeline(dir))
    expect(error.code).toBe('MODEL_INVALID')
    expect(error.message).toContain(join(dir, 'unet/model.onnx'))
  })

  it('names a missing or empty tokenizer folder', async () => {
    const missing = await broken('no-tokenizer', (d) => rm(join(d, 'tokenizer'), { recursive: true }))
    const missingError = await failure(() => loadPipeline(missing))
    expect(missingError.message).toContain(join(missing, 'tokenizer'))

    const empty = await broken('empty-tokenizer', async (d) => {
      await rm(join(d, 'tokenizer'), { recursive: true })
      await mkdir(join(d, 'tokenizer'))
    })
    const emptyError = await failure(() => loadPipeline(empty))
    expect(emptyError.code).toBe('MODEL_INVALID')
    expect(emptyError.message).toContain(join(empty, 'tokenizer'))
  })

  it('names a missing ONNX file', async () => {
    const dir = await broken('no-vae', (d) => rm(join(d, 'vae_decoder/model.onnx')))
    const error = await failure(() => loadPipeline(dir))
    expect(error.code).toBe('MODEL_LOAD_FAILED')
    expect(error.message).toContain(join(dir, 'vae_decoder/model.onnx'))
  })
})
