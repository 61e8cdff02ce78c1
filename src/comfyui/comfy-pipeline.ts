/**
 * A ComfyUI model behind the worker's pipeline contract: one graph (one sampler run) per image, image i
 * with seed + i, on one ComfyUI picked for the whole job; progress and previews from its socket; images
 * fetched with `/view` and decoded to RGB, so the worker encodes and stores them as it does in-process
 * images. A CUDA out-of-memory follows the same retry-smaller rule as the in-process pipelines.
 * @module
 */
import { randomUUID } from 'node:crypto'
import sharp from 'sharp'
import { errors } from '../core/errors.js'
import type { ImageSettings } from '../core/generation-request.js'
import type { GenerateHooks, ImagePipeline, PipelineProgress, RawImage } from '../pipelines/pipeline.js'
import { withOomFallback } from '../pipelines/pipeline-support.js'
import { PromptRejectedError } from './client.js'
import { rejectionError } from './comfy-errors.js'
import type { ComfyServer } from './comfy-server.js'
import type { ComfyModel } from './model-entries.js'
import { type RunPromptTiming, runPrompt } from './run-prompt.js'
import { buildGraph } from './templates.js'

/** Where a job runs: a ComfyUI with a slot held for it, released when the job ends. */
export interface ServerLease {
  readonly server: ComfyServer
  release(): void
}

export interface ComfyPipelineDeps {
  readonly model: ComfyModel
  /** Waits for a ComfyUI that has the model and a free slot; throws UNAVAILABLE when none is up. */
  readonly lease: (model: ComfyModel, signal?: AbortSignal) => Promise<ServerLease>
  readonly timing: RunPromptTiming
}

export class ComfyPipeline implements ImagePipeline {
  readonly name: string
  readonly family = 'flow' as const
  readonly #deps: ComfyPipelineDeps

  constructor(deps: ComfyPipelineDeps) {
    this.#deps = deps
    this.name = deps.model.name
  }

  async generate(settings: ImageSettings, hooks: GenerateHooks = {}): Promise<RawImage[]> {
    const lease = await this.#deps.lease(this.#deps.model, hooks.signal)
    try {
      return await withOomFallback(
        settings,
        { limits: this.#deps.model.limits },
        hooks.allowDownscaleOnOom === true,
        (s) => this.#generate(lease.server, s, hooks),
      )
    } finally {
      lease.release()
    }
  }

  async dispose(): Promise<void> {}

  async #generate(server: ComfyServer, settings: ImageSettings, hooks: GenerateHooks): Promise<RawImage[]> {
    const images: RawImage[] = []
    const previewEvery = hooks.previewEvery ?? 0
    for (let i = 0; i < settings.n; i++) {
      hooks.signal?.throwIfAborted()
      const seed = settings.seed + i
      const { graph, roles } = buildGraph(this.#deps.model.spec, {
        ...settings,
        seed,
        filenamePrefix: `pigment/${randomUUID()}`,
      })
      let step = 0
      let steps = settings.steps
      // progress and previews go out in the order ComfyUI sent them, even while a preview is being decoded
      let reports: Promise<void> = Promise.resolve()
      const report = (make: () => Promise<PipelineProgress> | PipelineProgress) => {
        reports = reports
          .then(make)
          .then((progress) => hooks.onProgress?.(progress))
          .catch(() => undefined)
      }
      const { images: refs } = await runPrompt(
        server,
        graph,
        {
          ...(hooks.signal === undefined ? {} : { signal: hooks.signal }),
          onProgress: (value, max) => {
            step = value
            steps = max
            if (hooks.onProgress !== undefined)
              report(() => ({ image: i, images: settings.n, step: value, steps: max }))
          },
          onPreview: (_mime, bytes) => {
            if (previewEvery === 0 || hooks.onProgress === undefined) return
            if (step % previewEvery !== 0 && step !== steps) return
            const at = { image: i, images: settings.n, step, steps }
            report(async () => ({ ...at, preview: await decodeRgb(bytes) }))
          },
        },
        this.#deps.timing,
      ).catch((error: unknown) => {
        throw error instanceof PromptRejectedError ? rejectionError(error.rejection, roles) : error
      })
      await reports
      if (refs.length === 0) {
        throw errors.COMFYUI_EXECUTION_FAILED(
          'ComfyUI finished the prompt but saved no image (its SaveImage node produced nothing)',
        )
      }
      // a template saves one image per run; a workflow may save more, and each one counts
      for (const ref of refs) {
        const decoded = await decodeRgb(await server.client.view(ref))
        images.push({ ...decoded, seed })
      }
    }
    return images
  }
}

async function decodeRgb(bytes: Uint8Array): Promise<{ width: number; height: number; rgb: Uint8Array }> {
  const { data, info } = await sharp(bytes)
    .removeAlpha()
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true })
  return {
    width: info.width,
    height: info.height,
    rgb: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  }
}
