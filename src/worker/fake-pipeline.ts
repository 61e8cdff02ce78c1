/**
 * Test support: an ImagePipeline that makes flat-colour images without a model, reports every step (with a
 * tiny preview every `previewEvery` steps), honours abort between steps, and can be told to fail or to pause at a step until released.
 * @module
 */
import type { ImageSettings } from '../core/generation-request.js'
import type { GenerateHooks, ImagePipeline, RawImage } from '../pipelines/pipeline.js'

export interface FakePipelineScript {
  /** Thrown from `generate` on these calls (1-based); a function makes the error per call. */
  readonly failOn?: ReadonlyMap<number, unknown>
  /** Pause before this step (1-based) of image 0 until `release()` or abort. */
  readonly pauseAtStep?: number
  /** Which call pauses (1-based, default 1); the others run straight through. */
  readonly pauseOnCall?: number
}

export class FakePipeline implements ImagePipeline {
  readonly name: string
  readonly family = 'sd' as const
  calls = 0
  disposed = false
  readonly #script: FakePipelineScript
  #release: (() => void) | null = null
  #paused: Promise<void>
  #markPaused: () => void = () => {}

  constructor(name = 'fake', script: FakePipelineScript = {}) {
    this.name = name
    this.#script = script
    this.#paused = new Promise((resolve) => {
      this.#markPaused = resolve
    })
  }

  /** Resolves once a run is paused at `pauseAtStep`. */
  paused(): Promise<void> {
    return this.#paused
  }

  release(): void {
    this.#release?.()
  }

  async generate(settings: ImageSettings, hooks: GenerateHooks = {}): Promise<RawImage[]> {
    this.calls++
    const call = this.calls
    const failure = this.#script.failOn?.get(call)
    if (failure !== undefined) throw failure
    const pauseAt = call === (this.#script.pauseOnCall ?? 1) ? this.#script.pauseAtStep : undefined
    const images: RawImage[] = []
    for (let image = 0; image < settings.n; image++) {
      for (let step = 1; step <= settings.steps; step++) {
        hooks.signal?.throwIfAborted()
        if (image === 0 && step === pauseAt) await this.#pause(hooks.signal)
        const every = hooks.previewEvery ?? 0
        const preview =
          every > 0 && step % every === 0 ? { width: 2, height: 2, rgb: new Uint8Array(12) } : undefined
        hooks.onProgress?.({
          image,
          images: settings.n,
          step,
          steps: settings.steps,
          ...(preview ? { preview } : {}),
        })
        await new Promise((resolve) => setImmediate(resolve))
      }
      const rgb = new Uint8Array(settings.width * settings.height * 3).fill((settings.seed + image) % 256)
      images.push({ width: settings.width, height: settings.height, rgb, seed: settings.seed + image })
    }
    return images
  }

  async #pause(signal?: AbortSignal): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#release = resolve
      signal?.addEventListener('abort', () => reject(signal.reason), { once: true })
      this.#markPaused()
    })
  }

  async dispose(): Promise<void> {
    this.disposed = true
  }
}
