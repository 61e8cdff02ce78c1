/**
 * Pure translation between AUTOMATIC1111's `/sdapi/v1` API and Pigment's canonical types: a txt2img body →
 * the canonical input and its iterations (`n_iter` jobs of `batch_size` images), finished jobs → the
 * `{images, parameters, info}` answer with `info` as a JSON string, and Pigment's errors → A1111's FastAPI
 * bodies. No Fastify, no I/O.
 * @module
 */
import { ERROR_CODES, type ErrorCode, errors, type PigmentError } from '../../core/errors.js'
import type { GenerationInput, ImageSettings } from '../../core/generation-request.js'
import { resolveSamplerSpec } from '../../engine/sampler-names.js'
import { samplerDisplayName, schedulerDisplayName } from '../../pipelines/encode/a1111-names.js'
import type { RenderedError } from '../dialect-kit.js'
import { Txt2ImgBody } from './schema.js'

/** A1111's "Automatic" scheduler: the sampler's own default, which for Pigment is the model's default. */
const AUTOMATIC = 'automatic'

/** A1111 scheduler names (`modules/sd_schedulers.py`) Pigment runs, with their label and canonical name. */
export const A1111_SCHEDULERS: readonly { name: string; label: string; canonical: string | null }[] = [
  { name: AUTOMATIC, label: 'Automatic', canonical: null },
  { name: 'uniform', label: 'Uniform', canonical: 'normal' },
  { name: 'karras', label: 'Karras', canonical: 'karras' },
  { name: 'exponential', label: 'Exponential', canonical: 'exponential' },
  { name: 'sgm_uniform', label: 'SGM Uniform', canonical: 'sgm_uniform' },
  { name: 'kl_optimal', label: 'KL Optimal', canonical: 'kl_optimal' },
  { name: 'simple', label: 'Simple', canonical: 'simple' },
  { name: 'normal', label: 'Normal', canonical: 'normal' },
  { name: 'ddim', label: 'DDIM', canonical: 'ddim_uniform' },
  { name: 'beta', label: 'Beta', canonical: 'beta' },
  { name: 'linear_quadratic', label: 'Linear Quadratic', canonical: 'linear_quadratic' },
]

/** One txt2img request as Pigment runs it: `iterations` jobs of `input.n` images, seeds running on. */
export interface A1111Submission {
  /** `seed` is image 0's; iteration k starts at seed + k × batch size, as A1111 numbers its seeds. */
  readonly input: GenerationInput & { readonly seed: number; readonly n: number }
  readonly iterations: number
  /** `sd_model_checkpoint` of `override_settings`, when given (it wins over the key's option). */
  readonly checkpoint?: string
  /** Accepted fields Pigment does not act on, reported in `info.extra_generation_params`. */
  readonly ignored: readonly string[]
}

/** A1111 draws `int(random.randrange(4294967294))` for seed −1. */
export const RANDOM_SEED_BOUND = 4_294_967_294

/**
 * A shape-checked body → what to run. Omitted sizes, steps, CFG, sampler and scheduler fall to the model's
 * defaults (A1111's own defaults were chosen for SD 1.5); seed −1 or none draws one with `randomSeed`.
 */
export function toSubmission(
  body: Txt2ImgBody,
  options: { readonly maxImages: number; readonly randomSeed: () => number },
): A1111Submission {
  const batchSize = body.batch_size ?? 1
  const iterations = body.n_iter ?? 1
  if (batchSize * iterations > options.maxImages) {
    throw errors.REQUEST_INVALID_PARAM(
      `n_iter × batch_size is ${iterations * batchSize}; this server makes at most ${options.maxImages} images per request`,
      { field: 'n_iter' },
    )
  }
  const { sampler, scheduler } = samplerAndScheduler(body.sampler_name ?? body.sampler_index, body.scheduler)
  const seed = body.seed === undefined || body.seed === -1 ? options.randomSeed() : body.seed
  const input: A1111Submission['input'] = {
    prompt: body.prompt ?? '',
    ...(body.negative_prompt === undefined ? {} : { negativePrompt: body.negative_prompt }),
    ...(body.width === undefined ? {} : { width: body.width }),
    ...(body.height === undefined ? {} : { height: body.height }),
    ...(body.steps === undefined ? {} : { steps: body.steps }),
    ...(body.cfg_scale === undefined ? {} : { cfg: body.cfg_scale }),
    ...(sampler === undefined ? {} : { sampler }),
    ...(scheduler === undefined ? {} : { scheduler }),
    seed,
    n: batchSize,
    output: { format: 'png' },
  }
  const checkpoint = body.override_settings?.sd_model_checkpoint
  return {
    input,
    iterations,
    ...(typeof checkpoint === 'string' && checkpoint !== '' ? { checkpoint } : {}),
    ignored: ignoredFields(body),
  }
}

/** `restore_faces`, hires fix, tiling and scripts are accepted and not run (documented in the README). */
function ignoredFields(body: Txt2ImgBody): string[] {
  const ignored: string[] = []
  if (body.restore_faces === true) ignored.push('restore_faces')
  if (body.enable_hr === true) ignored.push('enable_hr')
  if (body.tiling === true) ignored.push('tiling')
  if (body.alwayson_scripts !== undefined && Object.keys(body.alwayson_scripts).length > 0) {
    ignored.push('alwayson_scripts')
  }
  return ignored
}

/**
 * A1111 ≥ 1.9 sends the sampler ("DPM++ 2M") and `scheduler` ("karras" or its label "Karras") apart; older
 * clients fold the schedule into the sampler name ("DPM++ 2M Karras"). An explicit scheduler other than
 * Automatic wins over the folded one. Unknown names answer 404 as A1111's `validate_sampler_name` does.
 */
export function samplerAndScheduler(
  samplerName: string | undefined,
  schedulerName: string | undefined,
): { sampler?: string; scheduler?: string } {
  let sampler: string | undefined
  let folded: string | undefined
  if (samplerName !== undefined && samplerName !== '') {
    try {
      const spec = resolveSamplerSpec(samplerName)
      sampler = spec.sampler
      folded = spec.scheduler
    } catch (cause) {
      throw errors.NOT_FOUND('Sampler not found', { field: 'sampler_name', cause })
    }
  }
  const explicit = schedulerName === undefined || schedulerName === '' ? null : findScheduler(schedulerName)
  if (explicit === undefined) throw errors.NOT_FOUND('Scheduler not found', { field: 'scheduler' })
  const scheduler = explicit?.canonical ?? folded
  return { ...(sampler === undefined ? {} : { sampler }), ...(scheduler === undefined ? {} : { scheduler }) }
}

function findScheduler(given: string) {
  const key = given.trim().toLowerCase()
  return A1111_SCHEDULERS.find(
    (entry) => entry.name === key || entry.label.toLowerCase() === key || entry.canonical === key,
  )
}

/** `sd-models` entries and the names a checkpoint may be given by (title, name, file name, alias). */
export interface CheckpointModel {
  readonly name: string
  readonly aliases: readonly string[]
}

/**
 * The model a checkpoint name selects: A1111 titles look like `name.safetensors [6ce0161689]`, clients send
 * the title back, so a trailing ` [hash]` and a file extension are dropped before comparing. Undefined when
 * nothing matches.
 */
export function matchCheckpoint(given: string, models: readonly CheckpointModel[]): string | undefined {
  const bare = given
    .trim()
    .replace(/\s*\[[0-9a-fA-F]*\]$/, '')
    .replace(/\.(safetensors|ckpt|onnx)$/i, '')
  for (const candidate of [given.trim(), bare]) {
    const hit = models.find((model) => model.name === candidate || model.aliases.includes(candidate))
    if (hit) return hit.name
  }
  return undefined
}

/** What one finished txt2img produced, iteration by iteration. */
export interface Txt2ImgResult {
  /** The settings Pigment ran with (the first job's resolved request). */
  readonly settings: ImageSettings
  readonly seeds: readonly number[]
  readonly infotexts: readonly string[]
  readonly images: readonly string[]
}

/** A1111's `Processed.js()`: the fields clients read, as a JSON string. */
export function toInfo(
  result: Txt2ImgResult,
  body: Txt2ImgBody,
  submission: A1111Submission,
  jobTimestamp: string,
): string {
  const s = result.settings
  const seeds = result.seeds
  const extra: Record<string, string> = { 'Schedule type': schedulerDisplayName(s.scheduler) }
  for (const field of submission.ignored) extra[`${field} (not run by Pigment)`] = 'ignored'
  return JSON.stringify({
    prompt: s.prompt,
    all_prompts: seeds.map(() => s.prompt),
    negative_prompt: s.negativePrompt,
    all_negative_prompts: seeds.map(() => s.negativePrompt),
    seed: seeds[0] ?? submission.input.seed,
    all_seeds: seeds,
    subseed: -1,
    all_subseeds: seeds.map(() => -1),
    subseed_strength: 0,
    width: s.width,
    height: s.height,
    sampler_name: samplerDisplayName(s.sampler),
    cfg_scale: s.cfg,
    steps: s.steps,
    batch_size: submission.input.n,
    restore_faces: body.restore_faces ?? false,
    face_restoration_model: null,
    sd_model_name: s.model,
    sd_model_hash: null,
    sd_vae_name: null,
    sd_vae_hash: null,
    seed_resize_from_w: -1,
    seed_resize_from_h: -1,
    denoising_strength: null,
    extra_generation_params: extra,
    index_of_first_image: 0,
    infotexts: result.infotexts,
    styles: [],
    job_timestamp: jobTimestamp,
    clip_skip: 1,
    is_using_inpainting_conditioning: false,
    version: 'pigment',
  })
}

/** `parameters`: the request as A1111 echoes it, with the values that were actually used filled in. */
export function toParameters(body: Txt2ImgBody, result: Txt2ImgResult, submission: A1111Submission) {
  const s = result.settings
  // Only A1111's own fields, as pydantic echoes them: SillyTavern puts its `auth` (the key) in the body.
  const known = Object.entries(body).filter(([key]) => Object.hasOwn(Txt2ImgBody.properties, key))
  return {
    ...Object.fromEntries(known),
    prompt: s.prompt,
    negative_prompt: s.negativePrompt,
    seed: body.seed ?? -1,
    sampler_name: samplerDisplayName(s.sampler),
    scheduler: schedulerDisplayName(s.scheduler),
    batch_size: submission.input.n,
    n_iter: submission.iterations,
    steps: s.steps,
    cfg_scale: s.cfg,
    width: s.width,
    height: s.height,
  }
}

/** A1111's `YYYYmmddHHMMSS` job timestamp. */
export function jobTimestamp(date: Date): string {
  return date.toISOString().replace(/[-:T]/g, '').slice(0, 14)
}

/** Canonical field names → the txt2img body's, for error locations. */
const BODY_FIELDS: Readonly<Record<string, string>> = {
  cfg: 'cfg_scale',
  sampler: 'sampler_name',
  negativePrompt: 'negative_prompt',
  n: 'batch_size',
  model: 'sd_model_checkpoint',
}

const VALIDATION_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'VALIDATION_FAILED',
  'REQUEST_INVALID_PARAM',
  'DIALECT_UNSUPPORTED_PARAM',
])

/**
 * A bad value is FastAPI's 422 `{detail: [{loc, msg, type}]}` (A1111 leaves request validation to FastAPI);
 * everything else is A1111's `handle_exception` body `{error, detail, body, errors}` with the catalog status.
 */
export function toA1111Error(error: PigmentError): RenderedError {
  if (VALIDATION_CODES.has(error.code)) {
    const field = error.field === undefined ? undefined : (BODY_FIELDS[error.field] ?? error.field)
    const message =
      field !== undefined && error.message.startsWith(`${error.field}: `)
        ? error.message.slice(`${error.field}: `.length)
        : error.message
    const loc = field === undefined || field === 'body' ? ['body'] : ['body', ...field.split('.')]
    return { status: 422, body: { detail: [{ loc, msg: message, type: 'value_error' }] } }
  }
  const status = error.httpStatus
  const known = (ERROR_CODES as readonly string[]).includes(error.code) && error.code !== 'INTERNAL'
  return {
    status,
    body: {
      error: known ? 'HTTPException' : 'RuntimeError',
      detail: error.message,
      body: '',
      errors: `${status}: ${error.message}`,
    },
    ...(status === 401 ? { headers: { 'www-authenticate': 'Basic' } } : {}),
  }
}
