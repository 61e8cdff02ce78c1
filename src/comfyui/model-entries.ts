/**
 * Model entries of the ComfyUI backend, from the config file (`comfyui.models`) or a model folder whose
 * `pigment.json` says `backend: "comfyui"`. Each entry is checked once at startup (a workflow template's
 * filled inputs must exist in its graph) and gets its template's defaults and limits under its own.
 * @module
 */
import { existsSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { Value } from '@sinclair/typebox/value'
import { type ComfyModelEntry, ComfyModelSchema } from '../config/schema.js'
import { errors } from '../core/errors.js'
import type { ModelProfile } from '../jobs/canonicalize.js'
import type { ComfyGraph } from './protocol.js'
import { checkWorkflow, type TemplateSpec } from './templates.js'

type Defaults = Required<NonNullable<ModelProfile['defaults']>>
type Limits = Required<NonNullable<ModelProfile['limits']>>

/** A model as the backend serves it. */
export interface ComfyModel {
  readonly name: string
  readonly aliases: readonly string[]
  readonly family: string
  readonly defaults: Defaults
  readonly limits: Limits
  readonly spec: TemplateSpec
  /** The files a ComfyUI must list to run it (empty for workflows: any ComfyUI may try). */
  readonly files: readonly string[]
}

const LIMITS: Limits = {
  minSize: 64,
  maxSize: 2048,
  sizeMultiple: 16,
  maxSteps: 150,
  minCfg: 0,
  maxCfg: 30,
  outOfRange: 'reject',
}

/** Each template's defaults: ComfyUI's own template settings for that model family. */
const TEMPLATE_DEFAULTS: Readonly<
  Record<ComfyModelEntry['template'], { family: string; defaults: Defaults; limits: Limits }>
> = {
  chroma: {
    family: 'flow',
    defaults: {
      steps: 26,
      cfg: 3.5,
      sampler: 'euler',
      scheduler: 'beta',
      width: 1024,
      height: 1024,
      negativePrompt: '',
    },
    limits: LIMITS,
  },
  flux: {
    family: 'flow',
    defaults: {
      steps: 20,
      cfg: 1,
      sampler: 'euler',
      scheduler: 'simple',
      width: 1024,
      height: 1024,
      negativePrompt: '',
    },
    limits: LIMITS,
  },
  checkpoint: {
    family: 'sd',
    defaults: {
      steps: 20,
      cfg: 7,
      sampler: 'euler',
      scheduler: 'normal',
      width: 512,
      height: 512,
      negativePrompt: '',
    },
    limits: { ...LIMITS, sizeMultiple: 8 },
  },
  workflow: {
    family: 'comfyui',
    defaults: {
      steps: 20,
      cfg: 7,
      sampler: 'euler',
      scheduler: 'normal',
      width: 512,
      height: 512,
      negativePrompt: '',
    },
    limits: { ...LIMITS, sizeMultiple: 8, maxSize: 4096 },
  },
}

function invalid(name: string, message: string, origin: string) {
  return errors.MODEL_INVALID(`comfyui model "${name}" (${origin}): ${message}`, { field: 'comfyui.models' })
}

/** Resolves an entry (already schema-checked) into a served model; throws MODEL_INVALID naming it. */
export function toComfyModel(entry: ComfyModelEntry, origin: string, baseDir = process.cwd()): ComfyModel {
  const base = TEMPLATE_DEFAULTS[entry.template]
  let workflow = entry.workflow as ComfyGraph | undefined
  if (entry.workflowFile !== undefined) {
    const path = resolve(baseDir, entry.workflowFile)
    try {
      workflow = JSON.parse(readFileSync(path, 'utf8')) as ComfyGraph
    } catch (cause) {
      throw invalid(entry.name, `cannot read workflowFile ${path}: ${(cause as Error).message}`, origin)
    }
  }
  const files = entry.files ?? {}
  const spec: TemplateSpec = {
    template: entry.template,
    files,
    ...(entry.guidance === undefined ? {} : { guidance: entry.guidance }),
    ...(workflow === undefined ? {} : { workflow }),
    ...(entry.inputs === undefined ? {} : { inputs: entry.inputs }),
  }
  const needs: Readonly<Record<ComfyModelEntry['template'], readonly (keyof typeof files)[]>> = {
    chroma: ['unet', 't5'],
    flux: ['unet', 't5', 'clipL'],
    checkpoint: ['checkpoint'],
    workflow: [],
  }
  for (const key of needs[entry.template]) {
    if (files[key] === undefined)
      throw invalid(entry.name, `the ${entry.template} template needs files.${key}`, origin)
  }
  if (entry.template === 'workflow') {
    const problem = checkWorkflow(spec)
    if (problem !== undefined) throw invalid(entry.name, problem, origin)
  }
  const defaults = { ...base.defaults, ...entry.defaults }
  const limits = { ...base.limits, ...entry.limits }
  return {
    name: entry.name,
    aliases: entry.aliases ?? [],
    family: entry.family ?? base.family,
    defaults,
    limits,
    spec,
    files: Object.values(files).filter((file): file is string => typeof file === 'string'),
  }
}

/** A folder whose pigment.json says `backend: "comfyui"`, as an entry; undefined for any other folder. */
export function readComfyFolder(dir: string): ComfyModel | undefined {
  const path = join(dir, 'pigment.json')
  if (!existsSync(path)) return undefined
  let json: unknown
  try {
    json = JSON.parse(readFileSync(path, 'utf8'))
  } catch {
    return undefined // not ours to judge: the in-process loader reports a broken manifest
  }
  if (typeof json !== 'object' || json === null || (json as { backend?: unknown }).backend !== 'comfyui') {
    return undefined
  }
  const entry = { name: dir.split(/[\\/]/).filter(Boolean).at(-1), ...json }
  const error = Value.Errors(ComfyModelSchema, entry).First()
  if (error !== undefined) {
    throw errors.MODEL_INVALID(`${path}: ${error.path || '/'}: ${error.message}`, { details: { file: path } })
  }
  return toComfyModel(entry as ComfyModelEntry, path, dir)
}
