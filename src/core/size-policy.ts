/**
 * What a model does with a requested image size outside its native range (`limits.outOfRange` in
 * `pigment.json`): `reject` answers 400 naming the field; `resize` generates at the nearest native size
 * (keeping the aspect ratio as far as the native range allows) and resizes the image to the requested size.
 * A small model trained at one resolution then answers every API's documented sizes instead of refusing them.
 * @module
 */

export type OutOfRangePolicy = 'reject' | 'resize'

export interface SizeLimits {
  readonly minSize: number
  readonly maxSize: number
  readonly sizeMultiple: number
  readonly outOfRange?: OutOfRangePolicy
}

/**
 * The sizes a `resize` model accepts: the widest range any dialect documents (Scenario and Segmind stop at
 * 2048, OpenAI's largest preset is 1792), with room to spare; the server's `--max-pixels` still caps the area.
 */
export const RESIZABLE_SIZES = { minSize: 64, maxSize: 4096, sizeMultiple: 8 } as const

/** The range and multiple a request may ask for, given the model's native limits and policy. */
export function requestableSizes(limits: SizeLimits): {
  readonly minSize: number
  readonly maxSize: number
  readonly sizeMultiple: number
} {
  return limits.outOfRange === 'resize' ? RESIZABLE_SIZES : limits
}

/**
 * The native size nearest to `width`×`height`: scaled (both sides by one factor) into [minSize, maxSize] when
 * the ratio allows it, otherwise each side clamped, then rounded to the size multiple.
 */
export function nearestNativeSize(
  width: number,
  height: number,
  limits: SizeLimits,
): { width: number; height: number } {
  const { minSize, maxSize, sizeMultiple } = limits
  let scale = 1
  if (Math.max(width, height) > maxSize) scale = maxSize / Math.max(width, height)
  if (Math.min(width, height) * scale < minSize) scale = minSize / Math.min(width, height)
  const low = Math.ceil(minSize / sizeMultiple) * sizeMultiple
  const high = Math.floor(maxSize / sizeMultiple) * sizeMultiple
  const snap = (side: number) =>
    Math.min(high, Math.max(low, Math.round((side * scale) / sizeMultiple) * sizeMultiple))
  return { width: snap(width), height: snap(height) }
}
