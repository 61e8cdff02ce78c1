import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isPigmentError } from '../core/errors.js'
import { deviceFailure, vulkanLoaderPresent, webgpuHint } from './device.js'
import { createSession, probeDevice } from './session.js'
import { GraphBuilder } from './test-models/graph-builder.js'

let dir: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pigment-device-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('probeDevice', () => {
  it('passes at once on the CPU', async () => {
    await expect(probeDevice('cpu')).resolves.toBeUndefined()
  })

  it('runs on a WebGPU adapter, or says which part of the GPU stack is missing', async () => {
    let error: unknown
    try {
      await probeDevice('webgpu')
      return // this machine has a working adapter: the probe computed x + 1 on it
    } catch (caught) {
      error = caught
    }
    expect(isPigmentError(error, 'DEVICE_UNAVAILABLE')).toBe(true)
    const message = (error as Error).message
    expect(message).toContain('WebGPU execution provider is not available')
    expect(message).toContain(webgpuHint())
    if (!vulkanLoaderPresent()) expect(message).toContain('apt-get install libvulkan1')
  })

  it('turns a missing CUDA provider into DEVICE_UNAVAILABLE with the install command', () => {
    const error = deviceFailure('cuda', 'libonnxruntime_providers_cuda.so: cannot open shared object', null)
    expect(error?.code).toBe('DEVICE_UNAVAILABLE')
    expect(error?.message).toContain('ONNXRUNTIME_NODE_INSTALL=cuda12')
    expect(deviceFailure('cpu', 'anything', null)).toBeUndefined()
    expect(deviceFailure('webgpu', 'Protobuf parsing failed', null)).toBeUndefined()
  })
})

describe('webgpuHint', () => {
  it('names the Vulkan loader when it is missing and the driver when the loader is there', async () => {
    const libs = await mkdtemp(join(dir, 'lib-'))
    await writeFile(join(libs, 'libvulkan.so.1'), '')
    const withLoader = { LD_LIBRARY_PATH: libs }
    expect(vulkanLoaderPresent(withLoader)).toBe(true)
    expect(webgpuHint(withLoader)).toContain('VK_DRIVER_FILES')
    if (!vulkanLoaderPresent({})) expect(webgpuHint({})).toContain('libvulkan1')
  })
})

describe('constant feeds', () => {
  it('are converted once and reused while the same array is fed; a new array is converted again', async () => {
    const g = new GraphBuilder('double')
    const x = g.input('x', 'float16', [2])
    g.node('Add', [x, x], {}, ['y'])
    g.output('y', 'float16', [2])
    const file = join(dir, 'double.onnx')
    await writeFile(file, g.toBytes())
    const session = await createSession(file)
    const first = Float32Array.from([1, 2])
    expect([...(await session.run({ x: { data: first, dims: [2], constant: true } })).y.data]).toEqual([2, 4])
    first[0] = 100 // breaks the promise on purpose: the cached float16 tensor is what runs
    expect([...(await session.run({ x: { data: first, dims: [2], constant: true } })).y.data]).toEqual([2, 4])
    expect([...(await session.run({ x: { data: first, dims: [2] } })).y.data]).toEqual([200, 4])
    const second = Float32Array.from([3, 5])
    expect([...(await session.run({ x: { data: second, dims: [2], constant: true } })).y.data]).toEqual([
      6, 10,
    ])
    await session.dispose()
  })
})
