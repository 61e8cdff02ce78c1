/**
 * Named models. A name resolves, in order, to: a folder path (absolute, relative, or any existing path), a
 * folder in the model cache directory (`PIGMENT_MODELS_DIR`, default `$XDG_CACHE_HOME/pigment/models` or
 * `~/.cache/pigment/models`), or a model bundled with the package under `models/` unless the bundled models
 * are hidden (`bundled: false`, the server's `--no-bundled-models`).
 * @module
 */
import { existsSync, readdirSync, statSync } from 'node:fs'
import { homedir } from 'node:os'
import { isAbsolute, join, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { errors } from '../core/errors.js'
import { isModelFolder, loadModelFolder } from './model-folder.js'

/** The package's own `models/` folder (the same from `src/` under tsx and from `dist/`). */
export const BUNDLED_MODELS_DIR = fileURLToPath(new URL('../../models/', import.meta.url))

/** The model the CLI and server use when none is named: the demo model trained for Pigment. */
export const DEFAULT_MODEL_NAME = 'pigment-shapes'

export interface RegistryOptions {
  /** Overrides `PIGMENT_MODELS_DIR` and the default cache location. */
  readonly modelsDir?: string
  /** false hides the models bundled with the package: names resolve in the cache directory only. */
  readonly bundled?: boolean
}

export function modelsDir(options: RegistryOptions = {}): string {
  if (options.modelsDir) return resolve(options.modelsDir)
  if (process.env.PIGMENT_MODELS_DIR) return resolve(process.env.PIGMENT_MODELS_DIR)
  const cache = process.env.XDG_CACHE_HOME || join(homedir(), '.cache')
  return join(cache, 'pigment', 'models')
}

const looksLikePath = (name: string) =>
  isAbsolute(name) || name.startsWith('.') || name.includes(sep) || name.includes('/')

/** Where names are looked up, cache first so a cached name shadows a bundled one. */
function roots(options: RegistryOptions): readonly (readonly [string, ModelListing['source']])[] {
  const cache = [modelsDir(options), 'cache'] as const
  return options.bundled === false ? [cache] : [cache, [BUNDLED_MODELS_DIR, 'bundled']]
}

/** Folder of a named model, or undefined. */
function findNamed(name: string, options: RegistryOptions): string | undefined {
  for (const [root] of roots(options)) {
    const dir = join(root, name)
    if (existsSync(dir) && isModelFolder(dir)) return dir
  }
  return undefined
}

/** Resolves a model name or folder path to an absolute folder path. */
export function resolveModel(nameOrPath: string, options: RegistryOptions = {}): string {
  if (existsSync(nameOrPath) && statSync(nameOrPath).isDirectory()) return resolve(nameOrPath)
  if (!looksLikePath(nameOrPath)) {
    const named = findNamed(nameOrPath, options)
    if (named) return named
  }
  const searched = looksLikePath(nameOrPath)
    ? resolve(nameOrPath)
    : roots(options)
        .map(([root]) => join(root, nameOrPath))
        .join(' or ')
  throw errors.MODEL_NOT_FOUND(`no model "${nameOrPath}" (looked for ${searched})`, {
    field: 'model',
    details: { model: nameOrPath },
  })
}

/** The default model's folder when it is installed; undefined otherwise. */
export function defaultModelDir(options: RegistryOptions = {}): string | undefined {
  return findNamed(DEFAULT_MODEL_NAME, options)
}

export interface ModelListing {
  readonly name: string
  readonly dir: string
  readonly family?: 'sd' | 'flow'
  readonly source: 'cache' | 'bundled'
  /** Set when the folder does not load; the listing still shows it. */
  readonly problem?: string
}

/** Every model folder in the cache directory and the bundled models (cache first; a cached name shadows a bundled one). */
export async function listModels(options: RegistryOptions = {}): Promise<ModelListing[]> {
  const found: ModelListing[] = []
  const seen = new Set<string>()
  for (const [root, source] of roots(options)) {
    if (!existsSync(root)) continue
    for (const name of readdirSync(root).sort()) {
      const dir = join(root, name)
      if (seen.has(name) || !statSync(dir).isDirectory() || !isModelFolder(dir)) continue
      seen.add(name)
      try {
        const folder = await loadModelFolder(dir)
        found.push({ name, dir, family: folder.manifest.family, source })
      } catch (error) {
        found.push({ name, dir, source, problem: (error as Error).message })
      }
    }
  }
  return found
}
