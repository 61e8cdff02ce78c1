/**
 * The ComfyUI backend's public surface: open it from the config (`--comfyui URL`, `comfyui.models`, and
 * model folders whose pigment.json says `backend: "comfyui"`), and route the worker's pipelines so ComfyUI
 * models run there and every other model in-process.
 * @module
 */
import type { Config } from '../config/schema.js'
import { errors } from '../core/errors.js'
import { resolveModel } from '../pipelines/model-registry.js'
import type { PipelineSource } from '../worker/model-cache.js'
import { ComfyBackend } from './comfy-backend.js'
import { type ComfyModel, readComfyFolder, toComfyModel } from './model-entries.js'

export { ComfyBackend } from './comfy-backend.js'
export type { ComfyModel } from './model-entries.js'
export { asGraph, type PassthroughImage, type PassthroughResult, runPassthrough } from './passthrough.js'

export interface OpenedComfy {
  /** null when neither a ComfyUI nor a ComfyUI model is configured. */
  readonly backend: ComfyBackend | null
  /** The configured model sources that are in-process folders (the ComfyUI folders taken out). */
  readonly localModels: readonly string[]
}

/**
 * Reads the ComfyUI model entries and builds the backend (not started: call `start()`). `runsJobs`: this
 * process runs jobs itself, so ComfyUI models need a `--comfyui` here (an API-only process of a fleet leaves
 * them to the workers).
 */
export function openComfy(config: Config, runsJobs = true): OpenedComfy {
  const models: ComfyModel[] = config.comfyui.models.map((entry) =>
    toComfyModel(entry, 'config comfyui.models'),
  )
  const localModels: string[] = []
  for (const source of config.models) {
    const folder = comfyFolder(source, config.bundledModels)
    if (folder === undefined) localModels.push(source)
    else models.push(folder)
  }
  const { urls } = config.comfyui
  if (models.length === 0 && urls.length === 0) return { backend: null, localModels }
  if (runsJobs && urls.length === 0) {
    throw errors.MODEL_INVALID(
      `ComfyUI models (${models.map((m) => m.name).join(', ')}) need a ComfyUI to run on: add --comfyui URL (PIGMENT_COMFYUIS)`,
      { field: 'comfyui.urls' },
    )
  }
  const backend = new ComfyBackend({
    urls,
    models,
    slots: config.comfyui.slots,
    healthMs: Math.round(config.comfyui.healthSeconds * 1000),
    timing: {
      pollMs: Math.round(config.comfyui.pollSeconds * 1000),
      deadlineMs: Math.round(config.comfyui.deadlineSeconds * 1000),
    },
  })
  return { backend, localModels }
}

function comfyFolder(source: string, bundled: boolean): ComfyModel | undefined {
  let dir: string
  try {
    dir = resolveModel(source, { bundled })
  } catch {
    return undefined // the catalog reports a missing folder, with the places it looked
  }
  return readComfyFolder(dir)
}

/** ComfyUI models to the backend, the rest to the in-process source. */
export function routePipelines(backend: ComfyBackend | null, local: PipelineSource): PipelineSource {
  if (backend === null) return local
  return { acquire: (model) => (backend.has(model) ? backend.acquire(model) : local.acquire(model)) }
}

/** In-process workers needed so every ComfyUI slot can be busy at once. */
export function workersFor(config: Config, backend: ComfyBackend | null): number {
  if (config.workers === 0 || backend === null) return config.workers
  return Math.max(config.workers, backend.servers.length * config.comfyui.slots)
}
