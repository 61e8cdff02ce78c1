// Configuring the ComfyUI backend: --comfyui / PIGMENT_COMFYUIS / the config file, model entries from the file
// and from folders whose pigment.json says backend "comfyui", and the errors a bad entry gives at startup.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Command } from 'commander'
import { describe, expect, it } from 'vitest'
import { addWorkerCommand } from '../cli/commands/worker.js'
import { ConfigError, loadConfig } from '../config/load.js'
import type { Config } from '../config/schema.js'
import { openComfy } from './index.js'

const tmp = () => mkdtempSync(join(tmpdir(), 'pigment-comfy-config-'))

function writeJson(path: string, value: unknown): string {
  writeFileSync(path, JSON.stringify(value))
  return path
}

describe('ComfyUI configuration', () => {
  it('takes ComfyUI URLs from flags, PIGMENT_COMFYUIS and the file, flags winning', () => {
    const configFile = writeJson(join(tmp(), 'c.json'), { comfyui: { urls: ['http://file:8188'] } })
    expect(loadConfig({ configFile, env: {} }).comfyui.urls).toEqual(['http://file:8188'])
    expect(
      loadConfig({ configFile, env: { PIGMENT_COMFYUIS: 'http://a:1,http://b:2' } }).comfyui.urls,
    ).toEqual(['http://a:1', 'http://b:2'])
    const flags = { 'comfyui.urls': ['http://gpu-1:8188', 'http://gpu-2:8188'] }
    expect(loadConfig({ configFile, env: {}, flags }).comfyui.urls).toEqual([
      'http://gpu-1:8188',
      'http://gpu-2:8188',
    ])
    expect(() => loadConfig({ env: { PIGMENT_COMFYUIS: 'gpu-1:8188' } })).toThrow(ConfigError)
  })

  it('pigment worker takes --comfyui too', async () => {
    let seen: Config | undefined
    const program = new Command().exitOverride()
    addWorkerCommand(program, async (config) => {
      seen = config
    })
    await program.parseAsync(
      [
        'worker',
        '--queue',
        'redis://127.0.0.1:6379',
        '--database-url',
        'postgres://x@127.0.0.1/test',
        '--storage',
        's3',
        '--s3-bucket',
        'b',
        '--comfyui',
        'http://gpu-1:8188',
      ],
      { from: 'user' },
    )
    expect(seen?.comfyui.urls).toEqual(['http://gpu-1:8188'])
  })

  it('reads entries from the file (workflowFile relative to it) and from comfyui folders given as --model', () => {
    const dir = tmp()
    const workflow = {
      '6': { class_type: 'CLIPTextEncode', inputs: { text: '' } },
      '3': { class_type: 'KSampler', inputs: { seed: 0 } },
      '9': { class_type: 'SaveImage', inputs: { images: ['8', 0], filename_prefix: 'x' } },
    }
    writeJson(join(dir, 'flow.api.json'), workflow)
    const folder = join(dir, 'sdxl')
    mkdirSync(folder)
    writeJson(join(folder, 'pigment.json'), {
      backend: 'comfyui',
      template: 'checkpoint',
      files: { checkpoint: 'sdxl.safetensors' },
      defaults: { width: 1024, height: 1024 },
    })
    const configFile = writeJson(join(dir, 'pigment.config.json'), {
      comfyui: {
        models: [
          {
            name: 'mine',
            template: 'workflow',
            workflowFile: 'flow.api.json',
            inputs: { prompt: '6.text', seed: '3.seed' },
          },
        ],
      },
    })
    const config = loadConfig({ configFile, env: {}, flags: { models: [folder, 'pigment-shapes'] } })
    // a process that runs jobs needs a ComfyUI for them; an API-only process of a fleet does not
    expect(() => openComfy(config)).toThrow(/need a ComfyUI to run on: add --comfyui URL/)
    const { backend, localModels } = openComfy(config, false)
    expect(backend?.readiness('mine')).toEqual({ ready: true })
    expect(localModels).toEqual(['pigment-shapes'])
    expect(backend?.models.map((m) => [m.name, m.family, m.defaults.width])).toEqual([
      ['mine', 'comfyui', 512],
      ['sdxl', 'sd', 1024],
    ])
    backend?.close()
  })

  it('stops startup naming the entry and what is wrong with it', () => {
    const config = (models: unknown[]) =>
      loadConfig({ configFile: writeJson(join(tmp(), 'c.json'), { comfyui: { models } }), env: {} })
    expect(() =>
      openComfy(config([{ name: 'c', template: 'chroma', files: { unet: 'u.safetensors' } }])),
    ).toThrow(/comfyui model "c".*files\.t5/)
    expect(() =>
      openComfy(
        config([
          {
            name: 'w',
            template: 'workflow',
            workflow: { '1': { class_type: 'SaveImage', inputs: {} } },
            inputs: { prompt: '2.text', seed: '1.seed' },
          },
        ]),
      ),
    ).toThrow(/inputs\.prompt: no node "2"/)
    expect(() => config([{ name: 'x', template: 'sdxl' }])).toThrow(ConfigError)
  })
})
