/**
 * "Show the API": the current form as the same generation in each API Pigment speaks, as data (method, path,
 * auth header form, body) and as curl. Field names follow each dialect's schema in src/api/<dialect>; what a
 * dialect cannot say is listed in `notes` rather than silently dropped. The key is never written out: the
 * commands read it from $PIGMENT_API_KEY.
 * @module
 */
import { DIFFUSERS_SCHEDULERS, diffusersScheduler, resolveSampler } from '../../src/engine/sampler-names.js'
import { type FormValues, toGenerationBody } from './form-values.js'

/** How a dialect presents the key (see src/api/auth.ts). */
export type AuthForm = 'bearer' | 'bare' | 'x-api-key' | 'basic'

export interface ApiCall {
  readonly id: 'native' | 'runpod' | 'segmind' | 'openai' | 'scenario' | 'chutes'
  readonly title: string
  readonly method: 'POST'
  readonly path: string
  readonly auth: AuthForm
  readonly body: Readonly<Record<string, unknown>>
  /** Settings of the form this dialect cannot express (the server then uses the model's defaults). */
  readonly notes: readonly string[]
}

// Copy of src/api/segmind/schema.ts SAMPLER_NAMES and SCHEDULERS (web/src/api-calls.test.ts checks they match).
export const SEGMIND_SAMPLERS = [
  'euler',
  'euler_a',
  'heun',
  'dpm_2',
  'dpm_2_a',
  'lms',
  'dpm_fast',
  'dpm_adaptive',
  'dpmpp_2s_a',
  'dpmpp_sde',
  'dpmpp_2m',
  'dpmpp_2m_sde',
] as const
export const SEGMIND_SCHEDULERS = [
  'normal',
  'karras',
  'exponential',
  'beta',
  'sgm_uniform',
  'simple',
] as const
const SEGMIND_SIZE = { min: 768, max: 2048 }

const seedOf = (values: FormValues) => (values.seedLocked ? values.seed : undefined)
const randomSeedNote = (values: FormValues) =>
  values.seedLocked ? [] : ['seed: left out, so the server picks one']

/** The diffusers scheduler class Scenario would name for this sampler and schedule, if one maps exactly. */
function diffusersNameOf(sampler: string, scheduler: string): string | undefined {
  return DIFFUSERS_SCHEDULERS.find((name) => {
    const mapping = diffusersScheduler(name)
    return mapping.eta === undefined && mapping.sampler === sampler && mapping.scheduler === scheduler
  })
}

function segmindSampler(sampler: string): string | undefined {
  return SEGMIND_SAMPLERS.find((name) => resolveSampler(name) === sampler)
}

function compact(body: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(body).filter(([, value]) => value !== undefined && value !== ''))
}

export function apiCalls(values: FormValues): ApiCall[] {
  const model = values.model === '' ? 'default' : values.model
  const seed = seedOf(values)
  const segmindSamplerName = segmindSampler(values.sampler)
  const segmindSchedulerName = (SEGMIND_SCHEDULERS as readonly string[]).includes(values.scheduler)
    ? values.scheduler
    : undefined
  const scenarioScheduler = diffusersNameOf(values.sampler, values.scheduler)
  const outOfSegmindRange = [values.width, values.height].some(
    (side) => side < SEGMIND_SIZE.min || side > SEGMIND_SIZE.max,
  )
  return [
    {
      id: 'native',
      title: 'Pigment (native)',
      method: 'POST',
      path: '/api/generations',
      auth: 'bearer',
      body: toGenerationBody(values),
      notes: randomSeedNote(values),
    },
    {
      id: 'runpod',
      title: 'RunPod runsync',
      method: 'POST',
      path: `/v2/${model}/runsync`,
      auth: 'bare',
      body: {
        input: compact({
          prompt: values.prompt,
          negative_prompt: values.negativePrompt,
          width: values.width,
          height: values.height,
          steps: values.steps,
          cfg: values.cfg,
          num_images: values.n,
          seed,
        }),
      },
      notes: [
        `sampler ${values.sampler}, scheduler ${values.scheduler}: not in a RunPod input (the model's defaults apply)`,
        ...randomSeedNote(values),
      ],
    },
    {
      id: 'segmind',
      title: 'Segmind v1',
      method: 'POST',
      path: `/v1/${model}`,
      auth: 'x-api-key',
      body: {
        // Segmind fills in its own defaults (src/api/segmind/translate.ts SEGMIND_DEFAULTS), not the model's:
        // an empty negative prompt is sent as such, or Segmind's default text would apply.
        negative_prompt: values.negativePrompt,
        ...compact({
          prompt: values.prompt,
          aspect_ratio: 'custom',
          width: values.width,
          height: values.height,
          steps: values.steps,
          cfg: values.cfg,
          sampler_name: segmindSamplerName,
          scheduler: segmindSchedulerName,
          seed,
          samples: values.n,
        }),
      },
      notes: [
        ...(segmindSamplerName === undefined
          ? [`sampler ${values.sampler}: not among Segmind's sampler_name values`]
          : []),
        ...(segmindSchedulerName === undefined
          ? [`scheduler ${values.scheduler}: not among Segmind's values`]
          : []),
        ...(outOfSegmindRange
          ? [`width/height: Segmind accepts ${SEGMIND_SIZE.min}–${SEGMIND_SIZE.max}`]
          : []),
        ...(values.steps < 10 || values.steps > 75 ? ['steps: Segmind accepts 10–75'] : []),
        ...(values.cfg < 1 || values.cfg > 20 ? ['cfg: Segmind accepts 1–20'] : []),
        'answers with the image bytes of the first image',
        ...(values.seedLocked ? [] : ["seed: left out, so Segmind's documented default 123456789 applies"]),
      ],
    },
    {
      id: 'openai',
      title: 'OpenAI Images',
      method: 'POST',
      path: '/v1/images/generations',
      auth: 'bearer',
      body: { model, prompt: values.prompt, n: values.n, size: `${values.width}x${values.height}` },
      notes: [
        "negative prompt, steps, cfg, sampler, scheduler and seed: not in the OpenAI Images API (the model's defaults apply)",
        ...(values.n > 10 ? ['n: OpenAI accepts 1–10'] : []),
      ],
    },
    {
      id: 'scenario',
      title: 'Scenario txt2img',
      method: 'POST',
      path: '/scenario/v1/generate/txt2img',
      auth: 'basic',
      body: compact({
        modelId: model,
        prompt: values.prompt,
        negativePrompt: values.negativePrompt,
        numSamples: values.n,
        numInferenceSteps: values.steps,
        guidance: values.cfg,
        width: values.width,
        height: values.height,
        seed: seed === undefined ? undefined : String(seed),
        scheduler: scenarioScheduler,
      }),
      notes: [
        ...(scenarioScheduler === undefined
          ? [
              `sampler ${values.sampler} + scheduler ${values.scheduler}: no diffusers scheduler class maps to this pair`,
            ]
          : []),
        'answers with a job to poll at GET /scenario/v1/jobs/{jobId}',
        ...randomSeedNote(values),
      ],
    },
    {
      id: 'chutes',
      title: 'Chutes',
      method: 'POST',
      path: '/generate',
      auth: 'bearer',
      body: compact({
        model,
        prompt: values.prompt,
        negative_prompt: values.negativePrompt,
        width: values.width,
        height: values.height,
        num_inference_steps: values.steps,
        true_cfg_scale: values.cfg,
        seed,
      }),
      notes: [
        `sampler ${values.sampler}, scheduler ${values.scheduler}: not in a Chutes request`,
        ...(values.n > 1 ? [`n: Chutes makes one image per call (asked: ${values.n})`] : []),
        'answers with the JPEG bytes',
        ...randomSeedNote(values),
      ],
    },
  ]
}

function shellQuote(text: string): string {
  return `'${text.replaceAll("'", "'\\''")}'`
}

const AUTH_FLAGS: Readonly<Record<AuthForm, string>> = {
  bearer: '-H "Authorization: Bearer $PIGMENT_API_KEY"',
  bare: '-H "Authorization: $PIGMENT_API_KEY"',
  'x-api-key': '-H "x-api-key: $PIGMENT_API_KEY"',
  basic: '-u "$PIGMENT_API_KEY:"',
}

/** The call as a curl command against `origin`; with auth off, no key flag. */
export function toCurl(call: ApiCall, origin: string, withKey: boolean): string {
  const lines = [
    `curl -s ${shellQuote(`${origin}${call.path}`)}`,
    ...(withKey ? [AUTH_FLAGS[call.auth]] : []),
    "-H 'content-type: application/json'",
    `-d ${shellQuote(JSON.stringify(call.body, null, 2))}`,
  ]
  const output =
    call.id === 'segmind' || call.id === 'chutes' ? [`-o image.${call.id === 'chutes' ? 'jpg' : 'png'}`] : []
  return [...lines, ...output].join(' \\\n  ')
}
