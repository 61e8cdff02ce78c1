import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { ImagePipeline } from '../pipelines/pipeline.js'
import { FakePipeline } from './fake-pipeline.js'
import { ModelCache, onnxFilesSize } from './model-cache.js'

const SIZES: Record<string, number> = { a: 40, b: 40, c: 40, huge: 500 }

function cacheWith(budgetBytes: number) {
  const loads: string[] = []
  const pipelines = new Map<string, FakePipeline>()
  const cache = new ModelCache({
    budgetBytes,
    load: async (model) => {
      loads.push(model)
      if (model === 'broken') throw new Error('no such folder')
      const pipeline = new FakePipeline(model)
      pipelines.set(model, pipeline)
      return pipeline
    },
    sizeOf: async (pipeline: ImagePipeline) => SIZES[pipeline.name] ?? 0,
  })
  return { cache, loads, pipelines }
}

async function use(cache: ModelCache, model: string): Promise<void> {
  const handle = await cache.acquire(model)
  handle.release()
}

/** Lets the cache's eviction (run after release) finish. */
const settle = () => new Promise((resolve) => setImmediate(resolve))

describe('ModelCache', () => {
  it('keeps models loaded between jobs and loads a model once for concurrent jobs', async () => {
    const { cache, loads } = cacheWith(1000)
    const [one, two] = await Promise.all([cache.acquire('a'), cache.acquire('a')])
    expect(one.pipeline).toBe(two.pipeline)
    one.release()
    two.release()
    await use(cache, 'a')
    expect(loads).toEqual(['a'])
  })

  it('disposes the least recently used idle model when over budget', async () => {
    const { cache, loads, pipelines } = cacheWith(100)
    await use(cache, 'a')
    await use(cache, 'b')
    await use(cache, 'a') // b is now the least recently used
    await use(cache, 'c')
    await settle()
    expect(cache.loaded().map((m) => m.model)).toEqual(['a', 'c'])
    expect(pipelines.get('b')?.disposed).toBe(true)
    expect(pipelines.get('a')?.disposed).toBe(false)
    await use(cache, 'b')
    expect(loads).toEqual(['a', 'b', 'c', 'b'])
  })

  it('never disposes a model in use, and keeps a model bigger than the budget once it is alone', async () => {
    const { cache, pipelines } = cacheWith(100)
    const busy = await cache.acquire('a')
    await use(cache, 'huge')
    await settle()
    expect(pipelines.get('a')?.disposed).toBe(false)
    expect(cache.loaded().map((m) => [m.model, m.inUse])).toEqual([
      ['a', 1],
      ['huge', 0],
    ])
    busy.release()
    await settle()
    expect(pipelines.get('a')?.disposed).toBe(true)
    expect(cache.loaded().map((m) => m.model)).toEqual(['huge'])
  })

  it('does not remember a failed load and warms up ahead of time', async () => {
    const { cache, loads } = cacheWith(1000)
    await expect(cache.acquire('broken')).rejects.toThrow('no such folder')
    await expect(cache.acquire('broken')).rejects.toThrow('no such folder')
    await cache.warmup('a')
    expect(cache.loaded()).toEqual([{ model: 'a', bytes: 40, inUse: 0 }])
    expect(loads).toEqual(['broken', 'broken', 'a'])
  })
})

describe('onnxFilesSize', () => {
  it('adds up ONNX graphs and external weights, and nothing else', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pigment-onnx-'))
    try {
      mkdirSync(join(dir, 'unet'))
      writeFileSync(join(dir, 'unet', 'model.onnx'), new Uint8Array(100))
      writeFileSync(join(dir, 'unet', 'model.onnx.data'), new Uint8Array(1000))
      writeFileSync(join(dir, 'vae.onnx'), new Uint8Array(10))
      writeFileSync(join(dir, 'tokenizer.json'), new Uint8Array(5000))
      expect(await onnxFilesSize(dir)).toBe(1110)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
