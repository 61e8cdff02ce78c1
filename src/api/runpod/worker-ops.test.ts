import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { fakeDeps } from '../shared/testing/fake-deps.js'
import { testCatalog } from '../testing/dialect-app.js'
import { cleanup, debug, warmup } from './worker-ops.js'

describe('worker maintenance modes', () => {
  it('cleanup deletes interrupted downloads (*.part) and nothing else, reporting what it freed', async () => {
    const cache = mkdtempSync(join(tmpdir(), 'pigment-cleanup-'))
    mkdirSync(join(cache, 'model-a', 'unet'), { recursive: true })
    writeFileSync(join(cache, 'model-a', 'unet', 'model.onnx'), 'weights')
    writeFileSync(join(cache, 'model-a', 'unet', 'model.onnx_data.part'), '12345')
    writeFileSync(join(cache, 'model-b.json.part'), 'abc')
    const output = await cleanup(cache)
    expect(output).toMatchObject({ status: 'ok', cleaned: true, freed_bytes: 8 })
    expect((output.removed_files as string[]).length).toBe(2)
    expect(readdirSync(join(cache, 'model-a', 'unet'))).toEqual(['model.onnx'])
    expect(readdirSync(cache)).toEqual(['model-a'])
  })

  it('cleanup of a cache that does not exist yet removes nothing', async () => {
    expect(await cleanup(join(tmpdir(), 'pigment-no-such-cache-dir'))).toMatchObject({
      freed_bytes: 0,
      removed_files: [],
    })
  })

  it('debug reports the data paths with their free and total disk space', async () => {
    const deps = { ...fakeDeps({ config: { dataDir: tmpdir() } }), models: testCatalog() }
    const output = await debug(deps)
    expect(output.paths).toMatchObject({ data_dir: tmpdir() })
    const disk = output.disk as Record<string, { free_bytes: number; total_bytes: number } | null>
    expect(disk.data_dir?.total_bytes).toBeGreaterThan(0)
    expect(disk.data_dir!.free_bytes).toBeLessThanOrEqual(disk.data_dir!.total_bytes)
    expect(output.models).toEqual([{ name: 'tiny', loaded: false }])
  })

  it('warmup loads the named model', async () => {
    const models = testCatalog()
    expect(await warmup({ models }, 'chroma')).toEqual({ status: 'ok', warmed: true })
    expect(models.warmed).toEqual(['tiny'])
  })
})
