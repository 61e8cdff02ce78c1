/**
 * Opens a model by name or path and builds the pipeline of its family: the task table of Pigment's pipelines.
 * @module
 */
import { FlowPipeline } from './flow/flow-pipeline.js'
import type { ModelFamily } from './manifest.js'
import { loadModelFolder, type ModelFolder } from './model-folder.js'
import { type RegistryOptions, resolveModel } from './model-registry.js'
import type { ImagePipeline } from './pipeline.js'
import { SdPipeline } from './sd/sd-pipeline.js'
import type { Device, SessionRunEvent } from './session.js'

export interface LoadPipelineOptions extends RegistryOptions {
  /** Execution device; 'cuda' needs onnxruntime-node's CUDA binaries (see the README). */
  readonly device?: Device
  /** Called after every onnxruntime `run` (label 'textEncoder' | 'denoiser' | 'vaeDecoder'), e.g. for timing. */
  readonly onRun?: (event: SessionRunEvent) => void
}

export interface LoadedPipeline extends ImagePipeline {
  readonly folder: ModelFolder
}

const FAMILIES: Readonly<
  Record<ModelFamily, (folder: ModelFolder, options: LoadPipelineOptions) => Promise<LoadedPipeline>>
> = Object.freeze({
  sd: (folder, options) => SdPipeline.load(folder, options),
  flow: (folder, options) => FlowPipeline.load(folder, options),
})

export async function loadPipeline(
  nameOrPath: string,
  options: LoadPipelineOptions = {},
): Promise<LoadedPipeline> {
  const folder = await loadModelFolder(resolveModel(nameOrPath, options))
  return FAMILIES[folder.manifest.family](folder, options)
}
