/**
 * Opens a model folder: `pigment.json` when present, otherwise the Optimum Stable Diffusion layout. Checks that
 * every component exists before any ONNX session is created, so a broken folder fails fast and names the file.
 * @module
 */
import { existsSync, statSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { basename, join, resolve } from 'node:path'
import { errors } from '../core/errors.js'
import { type ModelManifest, parseManifest } from './manifest.js'
import { inferOptimumManifest } from './optimum-layout.js'

export const MANIFEST_FILE = 'pigment.json'

export interface ModelFolder {
  /** Absolute path of the folder. */
  readonly dir: string
  readonly manifest: ModelManifest
  /** Where the manifest came from. */
  readonly source: 'manifest' | 'optimum'
  /** Absolute paths of the components. */
  readonly paths: {
    readonly tokenizer: string
    readonly textEncoder: string
    readonly denoiser: string
    readonly vaeDecoder: string
    readonly clipTokenizer?: string
    readonly clipTextEncoder?: string
  }
}

/** True when `dir` looks like a model folder (for listings); does not validate it. */
export function isModelFolder(dir: string): boolean {
  return existsSync(join(dir, MANIFEST_FILE)) || existsSync(join(dir, 'model_index.json'))
}

async function readManifest(dir: string): Promise<ModelManifest> {
  const file = join(dir, MANIFEST_FILE)
  let raw: unknown
  try {
    raw = JSON.parse(await readFile(file, 'utf8'))
  } catch (cause) {
    throw errors.MODEL_INVALID(`${file} is not valid JSON: ${(cause as Error).message}`, {
      details: { file },
      cause,
    })
  }
  return parseManifest(raw, file, basename(dir), await inferredBase(dir))
}

/** A manifest beside an Optimum export only overrides it: the scheduler config still sets the prediction. */
async function inferredBase(dir: string): Promise<ModelManifest | undefined> {
  if (!existsSync(join(dir, 'model_index.json'))) return undefined
  try {
    return await inferOptimumManifest(dir)
  } catch {
    return undefined // a layout Pigment cannot infer: the manifest alone describes the model
  }
}

function checkComponents(folder: ModelFolder): void {
  const { paths } = folder
  for (const key of ['tokenizer', 'clipTokenizer'] as const) {
    const dir = paths[key]
    if (dir !== undefined && (!existsSync(dir) || !statSync(dir).isDirectory())) {
      throw errors.MODEL_INVALID(`tokenizer folder ${dir} is missing`, {
        field: `components.${key}`,
        details: { file: dir },
      })
    }
  }
  for (const key of ['textEncoder', 'denoiser', 'vaeDecoder', 'clipTextEncoder'] as const) {
    const file = paths[key]
    if (file !== undefined && !existsSync(file)) {
      throw errors.MODEL_LOAD_FAILED(`model file ${file} is missing (${key})`, {
        field: `components.${key}`,
        details: { file },
      })
    }
  }
}

/** Loads and checks the folder at `path`. */
export async function loadModelFolder(path: string): Promise<ModelFolder> {
  const dir = resolve(path)
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw errors.MODEL_NOT_FOUND(`model folder ${dir} does not exist`, {
      field: 'model',
      details: { file: dir },
    })
  }
  let manifest: ModelManifest
  let source: ModelFolder['source']
  if (existsSync(join(dir, MANIFEST_FILE))) {
    manifest = await readManifest(dir)
    source = 'manifest'
  } else if (existsSync(join(dir, 'model_index.json'))) {
    manifest = await inferOptimumManifest(dir)
    source = 'optimum'
  } else {
    throw errors.MODEL_INVALID(
      `${dir} is not a model folder: it has neither ${MANIFEST_FILE} nor model_index.json (Optimum layout)`,
      { details: { file: dir } },
    )
  }
  const c = manifest.components
  const folder: ModelFolder = {
    dir,
    manifest,
    source,
    paths: {
      tokenizer: join(dir, c.tokenizer),
      textEncoder: join(dir, c.textEncoder),
      denoiser: join(dir, c.denoiser),
      vaeDecoder: join(dir, c.vaeDecoder),
      ...(c.clipTokenizer && c.clipTextEncoder
        ? { clipTokenizer: join(dir, c.clipTokenizer), clipTextEncoder: join(dir, c.clipTextEncoder) }
        : {}),
    },
  }
  checkComponents(folder)
  return folder
}
