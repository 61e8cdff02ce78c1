/**
 * Keeps pipelines loaded between jobs, least recently used first out, within a memory budget. A model's
 * size is estimated from its ONNX files (weights dominate what onnxruntime holds). A pipeline in use is
 * never disposed, nor is the most recently used one, so a model larger than the whole budget still stays
 * loaded, alone.
 * @module
 */
import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { ImagePipeline } from '../pipelines/pipeline.js'

export interface PipelineHandle {
  readonly pipeline: ImagePipeline
  /** Call once the job is done with the pipeline. */
  release(): void
}

/** Where workers get pipelines from. */
export interface PipelineSource {
  acquire(model: string): Promise<PipelineHandle>
}

export interface ModelCacheOptions {
  readonly load: (model: string) => Promise<ImagePipeline>
  /** Bytes of loaded models to keep (default 8 GiB). */
  readonly budgetBytes?: number
  /** Default: the ONNX files under the pipeline's `folder.dir`, when it has one; else 0. */
  readonly sizeOf?: (pipeline: ImagePipeline) => Promise<number>
}

export interface LoadedModel {
  readonly model: string
  readonly bytes: number
  readonly inUse: number
}

interface Entry {
  readonly loading: Promise<{ pipeline: ImagePipeline; bytes: number }>
  bytes: number
  users: number
  ready: boolean
}

const ONNX_FILE = /\.onnx(\.data|_data)?$/

/** Total size of the ONNX graphs and external weight files under `dir`. */
export async function onnxFilesSize(dir: string): Promise<number> {
  let total = 0
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) total += await onnxFilesSize(path)
    else if (ONNX_FILE.test(entry.name)) total += (await stat(path)).size
  }
  return total
}

async function defaultSizeOf(pipeline: ImagePipeline): Promise<number> {
  const dir = (pipeline as { folder?: { dir?: unknown } }).folder?.dir
  return typeof dir === 'string' ? onnxFilesSize(dir) : 0
}

export class ModelCache implements PipelineSource {
  readonly #options: Required<ModelCacheOptions>
  // Map order is recency: a model moves to the end whenever it is acquired.
  readonly #entries = new Map<string, Entry>()

  constructor(options: ModelCacheOptions) {
    this.#options = { budgetBytes: 8 * 1024 ** 3, sizeOf: defaultSizeOf, ...options }
  }

  async acquire(model: string): Promise<PipelineHandle> {
    const entry = this.#entryFor(model)
    entry.users++
    let loaded: { pipeline: ImagePipeline; bytes: number }
    try {
      loaded = await entry.loading
    } catch (error) {
      entry.users--
      throw error
    }
    let released = false
    return {
      pipeline: loaded.pipeline,
      release: () => {
        if (released) return
        released = true
        entry.users--
        void this.#evict()
      },
    }
  }

  /** Loads a model ahead of its first job. */
  async warmup(model: string): Promise<void> {
    const handle = await this.acquire(model)
    handle.release()
  }

  loaded(): LoadedModel[] {
    return [...this.#entries]
      .filter(([, entry]) => entry.ready)
      .map(([model, entry]) => ({ model, bytes: entry.bytes, inUse: entry.users }))
  }

  /** Disposes every pipeline not in use now (shutdown). */
  async dispose(): Promise<void> {
    const idle = [...this.#entries].filter(([, entry]) => entry.users === 0)
    for (const [model] of idle) this.#entries.delete(model)
    await Promise.all(
      idle.map(([, entry]) => entry.loading.then((l) => l.pipeline.dispose()).catch(() => {})),
    )
  }

  #entryFor(model: string): Entry {
    const existing = this.#entries.get(model)
    if (existing !== undefined) {
      this.#entries.delete(model)
      this.#entries.set(model, existing)
      return existing
    }
    const loading = (async () => {
      const pipeline = await this.#options.load(model)
      const bytes = await this.#options.sizeOf(pipeline).catch(() => 0)
      return { pipeline, bytes }
    })()
    const entry: Entry = { loading, bytes: 0, users: 0, ready: false }
    this.#entries.set(model, entry)
    loading.then(
      ({ bytes }) => {
        entry.bytes = bytes
        entry.ready = true
        void this.#evict()
      },
      () => {
        // a failed load is not cached: the next job tries again
        if (this.#entries.get(model) === entry) this.#entries.delete(model)
      },
    )
    return entry
  }

  /** Disposes idle models, oldest use first, until the loaded ones fit the budget. */
  async #evict(): Promise<void> {
    let total = 0
    for (const entry of this.#entries.values()) total += entry.bytes
    const disposals: Promise<void>[] = []
    const newest = [...this.#entries.keys()].at(-1)
    for (const [model, entry] of this.#entries) {
      if (total <= this.#options.budgetBytes) break
      if (!entry.ready || entry.users > 0 || model === newest) continue
      this.#entries.delete(model)
      total -= entry.bytes
      disposals.push(entry.loading.then((l) => l.pipeline.dispose()))
    }
    await Promise.all(disposals).catch(() => {})
  }
}

/** A source that loads on every acquire and never caches (tests, one-shot CLI runs). */
export function uncachedPipelines(load: (model: string) => Promise<ImagePipeline>): PipelineSource {
  return {
    async acquire(model) {
      const pipeline = await load(model)
      return { pipeline, release: () => void pipeline.dispose() }
    },
  }
}
