/**
 * `pigment worker` for `bench:fleet`: the real fleet worker (BullMQ tickets, Postgres records, S3 images,
 * events over Redis) with a pipeline that costs nothing, so the benchmark measures the fleet, not a model.
 * @module
 */
import { Command } from 'commander'
import { addWorkerCommand } from '../src/cli/commands/worker.js'
import type { ImageSettings } from '../src/core/generation-request.js'
import { runFleetWorker } from '../src/fleet/run-worker.js'
import type { GenerateHooks, ImagePipeline, RawImage } from '../src/pipelines/pipeline.js'

// Copy of FixedImagePipeline in bench/server.ts: reports each step, does no math, one fixed 8×8 image per n.
class FixedImagePipeline implements ImagePipeline {
  readonly name = 'fixed-8x8'
  readonly family = 'sd' as const
  readonly #rgb = new Uint8Array(8 * 8 * 3).fill(128)

  async generate(settings: ImageSettings, hooks: GenerateHooks = {}): Promise<RawImage[]> {
    const images: RawImage[] = []
    for (let image = 0; image < settings.n; image++) {
      for (let step = 1; step <= settings.steps; step++) {
        hooks.signal?.throwIfAborted()
        hooks.onProgress?.({ image, images: settings.n, step, steps: settings.steps })
      }
      images.push({ width: 8, height: 8, rgb: this.#rgb, seed: settings.seed + image })
    }
    return images
  }

  async dispose(): Promise<void> {}
}

const program = new Command('pigment')
addWorkerCommand(program, (config) =>
  runFleetWorker(config, { loadPipeline: async () => new FixedImagePipeline() }),
)
await program.parseAsync(process.argv)
