/**
 * The `resize` size policy in the pipelines: a request outside the model's native range runs at the nearest
 * native size and each image is resized to the requested size with sharp (Lanczos). The images say which size
 * they were generated at (`resizedFrom`), for the image's parameters and the responses.
 * @module
 */
import sharp from 'sharp'
import type { ImageSettings } from '../core/generation-request.js'
import { nearestNativeSize } from '../core/size-policy.js'
import type { ModelManifest } from './manifest.js'
import type { RawImage } from './pipeline.js'

/** How the images are resized, as written into their parameters. */
export const RESIZE_KERNEL = 'Lanczos3'

/** Runs `generate` at the native size nearest the request and resizes its images to the requested size. */
export async function atNativeSize(
  settings: ImageSettings,
  manifest: ModelManifest,
  generate: (settings: ImageSettings) => Promise<RawImage[]>,
): Promise<RawImage[]> {
  if (manifest.limits.outOfRange !== 'resize') return generate(settings)
  const native = nearestNativeSize(settings.width, settings.height, manifest.limits)
  if (native.width === settings.width && native.height === settings.height) return generate(settings)
  const images = await generate({ ...settings, ...native })
  return Promise.all(images.map((image) => resizeImage(image, settings.width, settings.height)))
}

export async function resizeImage(image: RawImage, width: number, height: number): Promise<RawImage> {
  const { data, info } = await sharp(image.rgb, {
    raw: { width: image.width, height: image.height, channels: 3 },
  })
    .resize(width, height, { fit: 'fill', kernel: 'lanczos3' })
    .raw()
    .toBuffer({ resolveWithObject: true })
  if (info.channels !== 3) throw new Error(`resize gave ${info.channels} channels, expected 3`)
  return {
    ...image,
    width: info.width,
    height: info.height,
    rgb: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    resizedFrom: { width: image.width, height: image.height },
  }
}
