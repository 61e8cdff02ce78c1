/**
 * The contract between the worker and a loaded model pipeline.
 * @module
 */
import type { ImageSettings } from '../core/generation-request.js'

export interface PipelineProgress {
  /** Zero-based index of the image being made. */
  readonly image: number
  readonly images: number
  /** Steps done for this image (1-based after a step completes). */
  readonly step: number
  readonly steps: number
  /** Optional low-resolution RGB preview (raw bytes, width × height × 3). */
  readonly preview?: { readonly width: number; readonly height: number; readonly rgb: Uint8Array }
}

export interface GenerateHooks {
  readonly signal?: AbortSignal
  readonly onProgress?: (progress: PipelineProgress) => void
  /** Ask for previews every k steps (0 = none). */
  readonly previewEvery?: number
  /**
   * After an out-of-memory failure, retry at a smaller size (area halved each time, down to the model's minimum)
   * instead of failing; the images then carry `downscaledFrom`. Off unless the caller allows it.
   */
  readonly allowDownscaleOnOom?: boolean
}

/** One decoded image: 8-bit RGB, row-major. */
export interface RawImage {
  readonly width: number
  readonly height: number
  readonly rgb: Uint8Array
  readonly seed: number
  /** Set when an out-of-memory retry made the image smaller than requested: the size that was asked for. */
  readonly downscaledFrom?: { readonly width: number; readonly height: number }
  /** Set when the model's `resize` size policy made the image at another size: the size it was generated at. */
  readonly resizedFrom?: { readonly width: number; readonly height: number }
}

export interface ImagePipeline {
  readonly name: string
  readonly family: 'sd' | 'flow'
  generate(settings: ImageSettings, hooks?: GenerateHooks): Promise<RawImage[]>
  /** Frees the ONNX sessions. */
  dispose(): Promise<void>
}
