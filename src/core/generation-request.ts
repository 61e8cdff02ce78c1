/**
 * The one canonical request every API dialect translates into. Nothing below `api/` knows which dialect a
 * request came from, except as the opaque `source` label kept for records and usage.
 * @module
 */

export type OutputFormat = 'png' | 'jpeg' | 'webp'

/** What a pipeline needs to make images: the sampling settings, fully resolved (no defaults left open). */
export interface ImageSettings {
  readonly prompt: string
  readonly negativePrompt: string
  /** Registry name of the model. */
  readonly model: string
  readonly width: number
  readonly height: number
  readonly steps: number
  readonly cfg: number
  /** Canonical ComfyUI sampler name (aliases resolved). */
  readonly sampler: string
  /** Canonical ComfyUI scheduler name. */
  readonly scheduler: string
  /** Seed of image 0; image i uses seed + i. */
  readonly seed: number
  /** Number of images. */
  readonly n: number
}

export interface OutputSettings {
  readonly format: OutputFormat
  /** 1–100; ignored for PNG. */
  readonly quality: number
}

/** Who asked and through which API: kept for records, ownership and usage, never used for behaviour. */
export interface RequestOrigin {
  /** API key id, or null when auth is off. */
  readonly keyId: string | null
  /** Dialect label, e.g. 'native', 'runpod', 'openai'. */
  readonly source: string
}

export interface GenerationRequest extends ImageSettings {
  readonly output: OutputSettings
  readonly origin: RequestOrigin
  /** Higher runs first; FIFO within a priority. */
  readonly priority: number
  /** True when the seed was drawn at random by Pigment (reported back to the caller). */
  readonly seedWasRandom: boolean
  /** The caller allows a retry at a smaller size after an out-of-memory failure. */
  readonly allowDownscaleOnOom: boolean
}

/** A generation request before defaults are filled from the model's manifest. */
export type GenerationInput = Partial<ImageSettings> & {
  readonly prompt: string
  readonly output?: Partial<OutputSettings>
}
