/**
 * Graph templates: one API-format graph per image, built from a model entry and the job's settings. The
 * built-ins are ComfyUI's own text-to-image graphs (Chroma, FLUX.1, SD 1.x / SDXL checkpoints); a user's
 * workflow is a template too, with the entry naming which node inputs Pigment fills. Every template
 * records which node input stands for which request field, so ComfyUI's validation errors can name it.
 * @module
 */
import type { ImageSettings } from '../core/generation-request.js'
import type { ComfyGraph } from './protocol.js'

export type TemplateName = 'chroma' | 'flux' | 'checkpoint' | 'workflow'

/** The request fields a workflow template can take. */
export const INPUT_ROLES = [
  'prompt',
  'negativePrompt',
  'seed',
  'steps',
  'cfg',
  'sampler',
  'scheduler',
  'width',
  'height',
] as const
export type InputRole = (typeof INPUT_ROLES)[number]

/** What a template needs from the model entry. */
export interface TemplateSpec {
  readonly template: TemplateName
  readonly files: {
    readonly unet?: string
    readonly t5?: string
    readonly clipL?: string
    readonly vae?: string
    readonly checkpoint?: string
  }
  /** FLUX.1 distilled guidance (default 3.5). */
  readonly guidance?: number
  /** `workflow` only: the user's API-format graph and where each field goes (`"nodeId.input"`). */
  readonly workflow?: ComfyGraph
  readonly inputs?: Readonly<Partial<Record<InputRole, string>>>
}

/** One image's graph and the node inputs Pigment filled, `"nodeId.input"` → request field. */
export interface BuiltGraph {
  readonly graph: ComfyGraph
  readonly roles: ReadonlyMap<string, string>
}

/** The settings of one image: `seed` is already image i's seed. */
export type ImageJob = Omit<ImageSettings, 'n' | 'model'> & { readonly filenamePrefix: string }

const node = (class_type: string, inputs: Record<string, unknown>) => ({ class_type, inputs })

export function buildGraph(spec: TemplateSpec, job: ImageJob): BuiltGraph {
  switch (spec.template) {
    case 'chroma':
      return withRoles(chroma(spec, job), STANDARD_ROLES)
    case 'flux':
      return withRoles(flux(spec, job), STANDARD_ROLES)
    case 'checkpoint':
      return withRoles(checkpoint(spec, job), STANDARD_ROLES)
    case 'workflow':
      return fillWorkflow(spec, job)
  }
}

/** Where the built-in graphs put each field (they share node ids on purpose). */
const STANDARD_ROLES: Readonly<Record<InputRole, string>> = {
  prompt: '5.text',
  negativePrompt: '6.text',
  seed: '8.seed',
  steps: '8.steps',
  cfg: '8.cfg',
  sampler: '8.sampler_name',
  scheduler: '8.scheduler',
  width: '7.width',
  height: '7.height',
}

function withRoles(graph: ComfyGraph, roles: Readonly<Record<string, string>>): BuiltGraph {
  return { graph, roles: new Map(Object.entries(roles).map(([role, ref]) => [ref, fieldName(role)])) }
}

/** Request field names as the dialects' errors spell them. */
function fieldName(role: string): string {
  return role === 'negativePrompt' ? 'negative_prompt' : role
}

function sampler(job: ImageJob, model: unknown[], positive: unknown[]) {
  return node('KSampler', {
    model,
    positive,
    negative: ['6', 0],
    latent_image: ['7', 0],
    seed: job.seed,
    steps: job.steps,
    cfg: job.cfg,
    sampler_name: job.sampler,
    scheduler: job.scheduler,
    denoise: 1,
  })
}

function required(value: string | undefined, what: string): string {
  if (value === undefined || value === '') throw new Error(`the model entry names no ${what}`)
  return value
}

/** ComfyUI's Chroma template: T5 through CLIPLoader type chroma, no CLIP-L, the Flux VAE. */
function chroma(spec: TemplateSpec, job: ImageJob): ComfyGraph {
  return {
    '1': node('UNETLoader', { unet_name: required(spec.files.unet, 'files.unet'), weight_dtype: 'default' }),
    '3': node('CLIPLoader', {
      clip_name: required(spec.files.t5, 'files.t5'),
      type: 'chroma',
      device: 'default',
    }),
    '4': node('T5TokenizerOptions', { clip: ['3', 0], min_padding: 0, min_length: 0 }),
    '5': node('CLIPTextEncode', { clip: ['4', 0], text: job.prompt }),
    '6': node('CLIPTextEncode', { clip: ['4', 0], text: job.negativePrompt }),
    '7': node('EmptySD3LatentImage', { width: job.width, height: job.height, batch_size: 1 }),
    '8': sampler(job, ['1', 0], ['5', 0]),
    '9': node('VAELoader', { vae_name: spec.files.vae ?? 'ae.safetensors' }),
    '10': node('VAEDecode', { samples: ['8', 0], vae: ['9', 0] }),
    '11': node('SaveImage', { images: ['10', 0], filename_prefix: job.filenamePrefix }),
  }
}

/** FLUX.1 (dev or schnell): T5 + CLIP-L through DualCLIPLoader, distilled guidance on the positive prompt. */
function flux(spec: TemplateSpec, job: ImageJob): ComfyGraph {
  return {
    '1': node('UNETLoader', { unet_name: required(spec.files.unet, 'files.unet'), weight_dtype: 'default' }),
    '3': node('DualCLIPLoader', {
      clip_name1: required(spec.files.t5, 'files.t5'),
      clip_name2: required(spec.files.clipL, 'files.clipL'),
      type: 'flux',
      device: 'default',
    }),
    '5': node('CLIPTextEncode', { clip: ['3', 0], text: job.prompt }),
    '12': node('FluxGuidance', { conditioning: ['5', 0], guidance: spec.guidance ?? 3.5 }),
    '6': node('CLIPTextEncode', { clip: ['3', 0], text: job.negativePrompt }),
    '7': node('EmptySD3LatentImage', { width: job.width, height: job.height, batch_size: 1 }),
    '8': sampler(job, ['1', 0], ['12', 0]),
    '9': node('VAELoader', { vae_name: spec.files.vae ?? 'ae.safetensors' }),
    '10': node('VAEDecode', { samples: ['8', 0], vae: ['9', 0] }),
    '11': node('SaveImage', { images: ['10', 0], filename_prefix: job.filenamePrefix }),
  }
}

/** SD 1.x / SDXL: one checkpoint file holds the model, CLIP and VAE (outputs 0, 1, 2). */
function checkpoint(spec: TemplateSpec, job: ImageJob): ComfyGraph {
  return {
    '4': node('CheckpointLoaderSimple', { ckpt_name: required(spec.files.checkpoint, 'files.checkpoint') }),
    '5': node('CLIPTextEncode', { clip: ['4', 1], text: job.prompt }),
    '6': node('CLIPTextEncode', { clip: ['4', 1], text: job.negativePrompt }),
    '7': node('EmptyLatentImage', { width: job.width, height: job.height, batch_size: 1 }),
    '8': sampler(job, ['4', 0], ['5', 0]),
    '10': node('VAEDecode', { samples: ['8', 0], vae: ['4', 2] }),
    '11': node('SaveImage', { images: ['10', 0], filename_prefix: job.filenamePrefix }),
  }
}

/** `"12.text"` → ["12", "text"]; node ids may hold dots only before the last one. */
export function splitRef(ref: string): [string, string] {
  const at = ref.lastIndexOf('.')
  return [ref.slice(0, at), ref.slice(at + 1)]
}

/**
 * Checks a workflow template once, when the entry is loaded: each filled input must exist in the graph,
 * the graph must save images, and the seed must be Pigment's (image i uses seed + i).
 */
export function checkWorkflow(spec: TemplateSpec): string | undefined {
  const graph = spec.workflow
  if (graph === undefined) return 'a workflow template needs workflow (an API-format graph) or workflowFile'
  const inputs = spec.inputs ?? {}
  for (const role of ['prompt', 'seed'] as const) {
    if (inputs[role] === undefined)
      return `inputs.${role} must name the node input Pigment fills (e.g. "6.text")`
  }
  for (const [role, ref] of Object.entries(inputs)) {
    const [id, input] = splitRef(ref)
    const target = graph[id]
    if (id === '' || input === '' || target === undefined)
      return `inputs.${role}: no node "${id}" in the workflow`
    if (typeof target !== 'object' || target === null || typeof target.inputs !== 'object')
      return `inputs.${role}: node "${id}" is not an API-format node ({class_type, inputs})`
    if (!(input in target.inputs))
      return `inputs.${role}: node "${id}" (${target.class_type}) has no input "${input}"`
  }
  if (!Object.values(graph).some((n) => n?.class_type === 'SaveImage'))
    return 'the workflow has no SaveImage node, so it saves no images for Pigment to fetch'
  return undefined
}

function fillWorkflow(spec: TemplateSpec, job: ImageJob): BuiltGraph {
  const graph = structuredClone(spec.workflow ?? {})
  const values: Readonly<Record<InputRole, unknown>> = {
    prompt: job.prompt,
    negativePrompt: job.negativePrompt,
    seed: job.seed,
    steps: job.steps,
    cfg: job.cfg,
    sampler: job.sampler,
    scheduler: job.scheduler,
    width: job.width,
    height: job.height,
  }
  const roles = new Map<string, string>()
  for (const [role, ref] of Object.entries(spec.inputs ?? {}) as [InputRole, string][]) {
    const [id, input] = splitRef(ref)
    const target = graph[id]
    if (target === undefined) continue
    target.inputs[input] = values[role]
    roles.set(ref, fieldName(role))
  }
  // each run saves under its own prefix, so concurrent jobs never read each other's files
  for (const n of Object.values(graph)) {
    if (n.class_type === 'SaveImage') n.inputs.filename_prefix = job.filenamePrefix
  }
  return { graph, roles }
}
