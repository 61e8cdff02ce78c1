/**
 * Stages both pipeline families share: progress and previews per sampler step, VAE decoding to RGB, and the
 * out-of-memory retry at a smaller size.
 * @module
 */
import { isPigmentError } from '../core/errors.js'
import type { ImageSettings } from '../core/generation-request.js'
import type { StepInfo } from '../engine/index.js'
import { latentPreview, toVaeLatent, vaeOutputToRgb } from './latent-image.js'
import type { ModelManifest } from './manifest.js'
import type { GenerateHooks, RawImage } from './pipeline.js'
import type { ModelSession } from './session.js'

/** [1, C, h, w] of one image's latent. */
export type LatentShape = readonly [1, number, number, number]

export function latentShapeFor(settings: ImageSettings, manifest: ModelManifest): LatentShape {
  const { channels, downscale } = manifest.latent
  return [1, channels, settings.height / downscale, settings.width / downscale]
}

/** The sampler's per-step callback: progress for image `image` of `images`, with a preview every k steps. */
export function stepReporter(
  hooks: GenerateHooks,
  image: number,
  images: number,
  shape: LatentShape,
): ((info: StepInfo) => void) | undefined {
  const { onProgress, previewEvery = 0 } = hooks
  if (!onProgress) return undefined
  const [, channels, height, width] = shape
  return (info) => {
    const step = info.step + 1
    const wantPreview = previewEvery > 0 && (step % previewEvery === 0 || step === info.steps)
    onProgress({
      image,
      images,
      step,
      steps: info.steps,
      ...(wantPreview ? { preview: latentPreview(info.denoised, channels, height, width) } : {}),
    })
  }
}

/** Model-space latent → VAE decoder → 8-bit RGB. */
export async function decodeLatent(
  vae: ModelSession,
  z: Float32Array,
  shape: LatentShape,
  manifest: ModelManifest,
  seed: number,
): Promise<RawImage> {
  const { scalingFactor, shiftFactor } = manifest.latent
  const inputName = vae.inputs[0].name
  const outputName = vae.outputs[0].name
  const out = await vae.run({
    [inputName]: { data: toVaeLatent(z, scalingFactor, shiftFactor), dims: shape },
  })
  const { data, dims } = out[outputName]
  return { width: dims[3], height: dims[2], rgb: vaeOutputToRgb(data, dims), seed }
}

/** The next size down after an out-of-memory failure: area halved, sides kept multiples; undefined at the floor. */
export function smallerSize(
  width: number,
  height: number,
  manifest: Pick<ModelManifest, 'limits'>,
): { width: number; height: number } | undefined {
  const { sizeMultiple, minSize } = manifest.limits
  const shrink = (side: number) => Math.floor((side * Math.SQRT1_2) / sizeMultiple) * sizeMultiple
  const next = { width: Math.max(shrink(width), minSize), height: Math.max(shrink(height), minSize) }
  if (next.width % sizeMultiple !== 0 || next.height % sizeMultiple !== 0) return undefined
  return next.width < width || next.height < height ? next : undefined
}

/**
 * Runs `generate` at the requested size; when the caller allows it, an out-of-memory failure is retried at
 * smaller sizes, and the images then say which size was asked for.
 */
export async function withOomFallback(
  settings: ImageSettings,
  manifest: Pick<ModelManifest, 'limits'>,
  allow: boolean,
  generate: (settings: ImageSettings) => Promise<RawImage[]>,
): Promise<RawImage[]> {
  let current = settings
  for (;;) {
    try {
      const images = await generate(current)
      if (current === settings) return images
      return images.map((image) => ({
        ...image,
        downscaledFrom: { width: settings.width, height: settings.height },
      }))
    } catch (error) {
      if (!allow || !isPigmentError(error, 'MODEL_OUT_OF_MEMORY')) throw error
      const next = smallerSize(current.width, current.height, manifest)
      if (!next) throw error
      current = { ...current, ...next }
    }
  }
}
