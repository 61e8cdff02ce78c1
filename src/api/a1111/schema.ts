/**
 * TypeBox schemas of AUTOMATIC1111's `/sdapi/v1` API as its clients send and read it (Open WebUI, SillyTavern,
 * LibreChat). A1111's pydantic models ignore fields they do not know, and SillyTavern forwards its own `url`
 * and `auth` inside the txt2img body, so unknown fields pass here too; JSON `null` means "not given".
 * @module
 */
import { type Static, Type } from '@sinclair/typebox'

const Name = Type.String({ maxLength: 200 })

/** `POST /sdapi/v1/txt2img` (`StableDiffusionTxt2ImgProcessingAPI`): the fields Pigment reads or checks. */
export const Txt2ImgBody = Type.Object(
  {
    prompt: Type.Optional(Type.String({ maxLength: 32_000 })),
    negative_prompt: Type.Optional(Type.String({ maxLength: 32_000 })),
    styles: Type.Optional(Type.Array(Name, { maxItems: 0 })),
    seed: Type.Optional(Type.Integer({ minimum: -1, maximum: 2 ** 53 - 1 })),
    subseed: Type.Optional(Type.Integer({ minimum: -1 })),
    subseed_strength: Type.Optional(Type.Number({ minimum: 0, maximum: 0 })),
    sampler_name: Type.Optional(Name),
    sampler_index: Type.Optional(Name),
    scheduler: Type.Optional(Name),
    batch_size: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    n_iter: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    steps: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
    cfg_scale: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
    width: Type.Optional(Type.Integer({ minimum: 8, maximum: 16_384 })),
    height: Type.Optional(Type.Integer({ minimum: 8, maximum: 16_384 })),
    restore_faces: Type.Optional(Type.Boolean()),
    tiling: Type.Optional(Type.Boolean()),
    enable_hr: Type.Optional(Type.Boolean()),
    override_settings: Type.Optional(Type.Record(Type.String({ maxLength: 200 }), Type.Unknown())),
    override_settings_restore_afterwards: Type.Optional(Type.Boolean()),
    alwayson_scripts: Type.Optional(Type.Record(Type.String({ maxLength: 200 }), Type.Unknown())),
    send_images: Type.Optional(Type.Boolean()),
    save_images: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: true },
)
export type Txt2ImgBody = Static<typeof Txt2ImgBody>

export const Txt2ImgResponse = Type.Object({
  images: Type.Array(Type.String()),
  parameters: Type.Record(Type.String(), Type.Unknown()),
  /** A JSON document as a string, as A1111 sends it (LibreChat `JSON.parse`s it). */
  info: Type.String(),
})

/** `POST /sdapi/v1/options`: any settings; Pigment applies `sd_model_checkpoint` and ignores the rest. */
export const OptionsBody = Type.Record(Type.String({ maxLength: 200 }), Type.Unknown(), {
  maxProperties: 1000,
})
export type OptionsBody = Static<typeof OptionsBody>

export const Options = Type.Record(Type.String(), Type.Unknown())

export const SdModel = Type.Object({
  title: Type.String(),
  model_name: Type.String(),
  hash: Type.Union([Type.String(), Type.Null()]),
  sha256: Type.Union([Type.String(), Type.Null()]),
  filename: Type.String(),
  config: Type.Union([Type.String(), Type.Null()]),
})

export const Sampler = Type.Object({
  name: Type.String(),
  aliases: Type.Array(Type.String()),
  options: Type.Record(Type.String(), Type.String()),
})

export const Scheduler = Type.Object({
  name: Type.String(),
  label: Type.String(),
  aliases: Type.Union([Type.Array(Type.String()), Type.Null()]),
  default_rho: Type.Number(),
  need_inner_model: Type.Boolean(),
})

export const Upscaler = Type.Object({
  name: Type.String(),
  model_name: Type.Union([Type.String(), Type.Null()]),
  model_path: Type.Union([Type.String(), Type.Null()]),
  model_url: Type.Union([Type.String(), Type.Null()]),
  scale: Type.Number(),
})

export const NamedItem = Type.Object({ name: Type.String() }, { additionalProperties: true })

export const ProgressQuery = Type.Object(
  { skip_current_image: Type.Optional(Type.Boolean()) },
  { additionalProperties: true },
)
export type ProgressQuery = Static<typeof ProgressQuery>

export const ProgressState = Type.Object({
  skipped: Type.Boolean(),
  interrupted: Type.Boolean(),
  stopping_generation: Type.Boolean(),
  job: Type.String(),
  job_count: Type.Integer(),
  job_timestamp: Type.String(),
  job_no: Type.Integer(),
  sampling_step: Type.Integer(),
  sampling_steps: Type.Integer(),
})
export type ProgressState = Static<typeof ProgressState>

export const ProgressResponse = Type.Object({
  progress: Type.Number(),
  eta_relative: Type.Number(),
  state: ProgressState,
  current_image: Type.Union([Type.String(), Type.Null()]),
  textinfo: Type.Union([Type.String(), Type.Null()]),
})
export type ProgressResponse = Static<typeof ProgressResponse>

/** A1111's exception handler body (`modules/api/api.py` `handle_exception`). */
export const ErrorBody = Type.Object(
  {
    error: Type.Optional(Type.String()),
    detail: Type.Unknown(),
    body: Type.Optional(Type.Unknown()),
    errors: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
)
