/**
 * `--device` on the real command line: a device whose GPU stack is missing stops `serve` and `generate` at
 * startup with DEVICE_UNAVAILABLE and the remedy (here: no Vulkan loader, no adapter — the CI machines have
 * no GPU), instead of a server that accepts jobs and fails each one; an unknown device is a config error.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import { webgpuHint } from '../../src/pipelines/device.js'
import { probeDevice } from '../../src/pipelines/session.js'
import { runCli } from './auth-helpers.js'
import { makeTestModel, tempDir } from './server-harness.js'

let model: string
let webgpuWorks = false

beforeAll(async () => {
  model = await makeTestModel()
  webgpuWorks = await probeDevice('webgpu').then(
    () => true,
    () => false,
  )
}, 120_000)

describe('--device', () => {
  it('refuses to serve on WebGPU without an adapter, saying what is missing', async (context) => {
    if (webgpuWorks) context.skip() // a GPU machine: the server would start and serve on it
    const dataDir = tempDir('device-webgpu')
    const result = await runCli([
      'serve',
      '--port',
      '0',
      '--data-dir',
      dataDir,
      '--model',
      model,
      '--device',
      'webgpu',
    ])
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('WebGPU execution provider is not available')
    expect(result.stderr).toContain(webgpuHint())
  }, 150_000)

  it('stops pigment generate on WebGPU without an adapter, writing no image', async (context) => {
    if (webgpuWorks) context.skip()
    const out = tempDir('device-generate')
    const result = await runCli([
      'generate',
      'a red circle',
      '--model',
      model,
      '--device',
      'webgpu',
      '--out',
      out,
    ])
    expect(result.code).toBe(1)
    expect(result.stdout).toBe('')
    expect(result.stderr).toContain(webgpuHint())
  }, 150_000)

  it('names the setting and the choices for an unknown device', async () => {
    const result = await runCli([
      'serve',
      '--port',
      '0',
      '--data-dir',
      tempDir('device-bad'),
      '--device',
      'tpu',
    ])
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/device/)
    expect(result.stderr).toMatch(/webgpu/)
  }, 150_000)
})
