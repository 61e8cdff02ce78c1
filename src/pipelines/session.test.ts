import { existsSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isPigmentError } from '../core/errors.js'
import { createSession, type SessionRunEvent } from './session.js'
import { GraphBuilder } from './test-models/graph-builder.js'
import { writeTestModel } from './test-models/write-test-model.js'

let dir: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pigment-session-'))
  await writeTestModel({ family: 'sd', out: join(dir, 'scalar'), seed: 3 })
  await writeTestModel({
    family: 'sd',
    out: join(dir, 'int64'),
    seed: 3,
    timestep: 'int64',
    inputIds: 'int32',
  })
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

const unetFeeds = (batch: number, timesteps: number[]) => ({
  sample: { data: new Float32Array(batch * 4 * 8 * 8).fill(0.5), dims: [batch, 4, 8, 8] },
  timestep: { data: timesteps, dims: [batch] },
  encoder_hidden_states: { data: new Float32Array(batch * 77 * 32).fill(0.1), dims: [batch, 77, 32] },
})

async function failure(promise: Promise<unknown>) {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error('expected a failure')
}

describe('createSession', () => {
  it('feeds a batch of equal timesteps to a scalar timestep input and reports each run', async () => {
    const events: SessionRunEvent[] = []
    const unet = await createSession(join(dir, 'scalar/unet/model.onnx'), {
      label: 'unet',
      onRun: (e) => events.push(e),
    })
    const out = await unet.run(unetFeeds(2, [500, 500]))
    expect(out.out_sample.dims).toEqual([2, 4, 8, 8])
    expect(events).toHaveLength(1)
    expect(events[0].inputs.find((i) => i.name === 'timestep')?.dims).toEqual([])
    expect(unet.stats.calls).toBe(1)
    const error = await failure(unet.run(unetFeeds(2, [500, 400])))
    expect(isPigmentError(error, 'MODEL_INPUT_MISMATCH')).toBe(true)
    await unet.dispose()
  })

  it('casts timesteps to an int64 input and ids to an int32 input', async () => {
    const unet = await createSession(join(dir, 'int64/unet/model.onnx'))
    expect(unet.input('timestep')).toMatchObject({ dtype: 'int64', dims: ['batch_size'] })
    const a = await unet.run(unetFeeds(1, [354.2]))
    const b = await unet.run(unetFeeds(1, [354]))
    expect(a.out_sample.data).toEqual(b.out_sample.data)
    const encoder = await createSession(join(dir, 'int64/text_encoder/model.onnx'))
    const ids = Array.from({ length: 77 }, (_, i) => i % 50)
    const out = await encoder.run({ input_ids: { data: ids, dims: [1, 77] } })
    expect(out.last_hidden_state.dims).toEqual([1, 77, 32])
  })

  it('names the file, the input and both shapes when a rank is wrong', async () => {
    const unet = await createSession(join(dir, 'scalar/unet/model.onnx'))
    const feeds = { ...unetFeeds(1, [1]), sample: { data: new Float32Array(4 * 64), dims: [4, 8, 8] } }
    const error = await failure(unet.run(feeds))
    expect(isPigmentError(error, 'MODEL_INPUT_MISMATCH')).toBe(true)
    expect((error as Error).message).toContain(join(dir, 'scalar/unet/model.onnx'))
    expect((error as Error).message).toContain('"sample"')
    expect((error as Error).message).toContain('[4, 8, 8]')
    expect((error as Error).message).toContain('[batch_size, 4, height, width]')
  })

  it('names a missing input and rejects unknown ones', async () => {
    const unet = await createSession(join(dir, 'scalar/unet/model.onnx'))
    const { timestep: _, ...missing } = unetFeeds(1, [1])
    const error = await failure(unet.run(missing))
    expect((error as Error).message).toMatch(/missing input "timestep"/)
    const extra = { ...unetFeeds(1, [1]), guidance: { data: [1], dims: [1] } }
    expect(((await failure(unet.run(extra))) as Error).message).toMatch(/no input "guidance"/)
  })

  it('names the file when it is missing or not an ONNX model', async () => {
    const missing = await failure(createSession(join(dir, 'nowhere/model.onnx')))
    expect(isPigmentError(missing, 'MODEL_LOAD_FAILED')).toBe(true)
    expect((missing as Error).message).toContain(join(dir, 'nowhere/model.onnx'))
    const corrupt = join(dir, 'corrupt.onnx')
    await writeFile(corrupt, 'this is not a protobuf')
    const error = await failure(createSession(corrupt))
    expect(isPigmentError(error, 'MODEL_LOAD_FAILED')).toBe(true)
    expect((error as Error).message).toContain(corrupt)
  })

  it('casts to and from float16', async () => {
    const g = new GraphBuilder('half')
    const x = g.input('x', 'float16', ['n'])
    g.node('Add', [x, x], {}, ['y'])
    g.output('y', 'float16', ['n'])
    const file = join(dir, 'half.onnx')
    await writeFile(file, g.toBytes())
    const session = await createSession(file)
    const out = await session.run({ x: { data: [0.5, -1.25, 1000, 3e-6], dims: [4] } })
    expect(Array.from(out.y.data)).toEqual([1, -2.5, 2000, expect.closeTo(6e-6, 7)])
  })

  it('wraps an onnxruntime failure as MODEL_RUN_FAILED listing every input it was fed', async () => {
    const g = new GraphBuilder('reshape')
    const x = g.input('x', 'float32', ['n'])
    g.node('Reshape', [x, g.int64s([2, 3])], {}, ['y'])
    g.output('y', 'float32', [2, 3])
    const file = join(dir, 'reshape.onnx')
    await writeFile(file, g.toBytes())
    const session = await createSession(file, { label: 'reshaper' })
    const error = await failure(session.run({ x: { data: [1, 2, 3, 4], dims: [4] } }))
    expect(isPigmentError(error, 'MODEL_RUN_FAILED')).toBe(true)
    expect((error as Error).message).toContain('reshaper')
    expect((error as Error).message).toContain('x: float32[4]')
    expect((error as { details?: unknown }).details).toMatchObject({
      file,
      inputs: [{ name: 'x', dtype: 'float32', dims: [4] }],
    })
  })

  it('explains how to install the CUDA binaries when they are missing', async () => {
    const binding = dirname(createRequire(import.meta.url).resolve('onnxruntime-node'))
    const cudaLib = join(binding, '../bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so')
    if (existsSync(cudaLib)) return // a machine with the CUDA binaries installed cannot show this error
    const error = await failure(createSession(join(dir, 'scalar/unet/model.onnx'), { device: 'cuda' }))
    expect(isPigmentError(error, 'DEVICE_UNAVAILABLE')).toBe(true)
    expect((error as Error).message).toContain('ONNXRUNTIME_NODE_INSTALL=cuda12')
  })
})
