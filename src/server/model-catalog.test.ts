import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, it, vi } from 'vitest'
import { isPigmentError } from '../core/errors.js'
import { DEFAULT_MODEL_NAME } from '../pipelines/model-registry.js'
import { writeTestModel } from '../pipelines/test-models/write-test-model.js'
import { ServerModelCatalog } from './model-catalog.js'

let modelDir: string

beforeAll(async () => {
  modelDir = join(mkdtempSync(join(tmpdir(), 'pigment-catalog-')), 'tiny-sd')
  await writeTestModel({ family: 'sd', out: modelDir, seed: 1 })
})

async function expectCode(promise: Promise<unknown>, code: string) {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  )
  expect(isPigmentError(error) ? error.code : error).toBe(code)
  return error as Error
}

describe('ServerModelCatalog', () => {
  it('names models after their folder and resolves aliases and the default', async () => {
    const catalog = await ServerModelCatalog.open({
      models: [modelDir],
      aliases: { chroma: 'tiny-sd' },
      defaultModel: '',
    })
    expect(catalog.resolveName(undefined)).toBe('tiny-sd')
    expect(catalog.resolveName('chroma')).toBe('tiny-sd')
    const profile = await catalog.profile('chroma')
    expect(profile).toMatchObject({ name: 'tiny-sd', defaults: { width: 512 }, limits: { sizeMultiple: 8 } })
    const [summary] = await catalog.list()
    expect(summary).toMatchObject({
      name: 'tiny-sd',
      family: 'sd',
      aliases: ['chroma'],
      isDefault: true,
      loaded: false,
    })
    const error = await expectCode(catalog.profile('flux'), 'MODEL_NOT_FOUND')
    expect(error.message).toContain('available: tiny-sd, chroma')
  })

  it('refuses to start with a missing folder, an alias to nothing or an unknown default', async () => {
    await expectCode(
      ServerModelCatalog.open({ models: ['/nonexistent/model'], aliases: {}, defaultModel: '' }),
      'MODEL_NOT_FOUND',
    )
    await expectCode(
      ServerModelCatalog.open({ models: [modelDir], aliases: { a: 'b' }, defaultModel: '' }),
      'MODEL_NOT_FOUND',
    )
    await expectCode(
      ServerModelCatalog.open({ models: [modelDir], aliases: {}, defaultModel: 'x' }),
      'MODEL_NOT_FOUND',
    )
  })

  it('without any model, explains how to configure one when a generation asks', async () => {
    const catalog = await ServerModelCatalog.open(
      { models: [], aliases: {}, defaultModel: '' },
      () => undefined,
    )
    const error = await expectCode(catalog.profile(undefined), 'MODEL_NOT_CONFIGURED')
    expect(error.message).toContain('--model DIR')
    expect(await catalog.readiness()).toEqual({ ready: false, reason: 'no model configured' })
  })

  it('with the bundled models hidden, has no default and does not resolve their names', async () => {
    // an empty cache, so a pigment-shapes installed on this machine does not fill the catalog
    vi.stubEnv('PIGMENT_MODELS_DIR', mkdtempSync(join(tmpdir(), 'pigment-empty-cache-')))
    try {
      const settings = { models: [], aliases: {}, defaultModel: '', bundledModels: false }
      const catalog = await ServerModelCatalog.open(settings)
      expect(catalog.names).toEqual([])
      expect(await catalog.readiness()).toEqual({ ready: false, reason: 'no model configured' })
      await expectCode(catalog.profile(undefined), 'MODEL_NOT_CONFIGURED')
      await expectCode(
        ServerModelCatalog.open({ ...settings, models: [DEFAULT_MODEL_NAME] }),
        'MODEL_NOT_FOUND',
      )
      const shown = await ServerModelCatalog.open({ ...settings, bundledModels: true })
      expect(shown.names).toEqual([DEFAULT_MODEL_NAME])
    } finally {
      vi.unstubAllEnvs()
    }
  })

  it('falls back to the default model when none is configured', async () => {
    const catalog = await ServerModelCatalog.open(
      { models: [], aliases: {}, defaultModel: '' },
      () => modelDir,
    )
    expect(catalog.names).toEqual(['tiny-sd'])
  })

  it('warms models up through the attached worker cache', async () => {
    const catalog = await ServerModelCatalog.open({
      models: [modelDir],
      aliases: { chroma: 'tiny-sd' },
      defaultModel: 'chroma',
    })
    await expectCode(catalog.warmup('chroma'), 'UNAVAILABLE')
    const loaded = new Set<string>()
    catalog.attachWarmer({
      isLoaded: (model) => loaded.has(model),
      warmup: async (model) => void loaded.add(model),
    })
    expect((await catalog.warmup('chroma')).model).toBe('tiny-sd')
    expect((await catalog.list())[0].loaded).toBe(true)
  })
})
