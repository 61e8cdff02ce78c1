/**
 * The models this server offers: the configured folders (or the default model when none is configured),
 * their aliases and the default. With the bundled models hidden, neither the default nor a configured name
 * falls back to the package's `models/` folder, so a server without `--model` has no model at all. Folders are opened and checked once at startup, so a typo in `--model`
 * stops the server with the folder named instead of failing the first job.
 * @module
 */
import { basename } from 'node:path'
import type { ModelCatalog, ModelSummary } from '../api/shared/deps.js'
import { errors } from '../core/errors.js'
import type { ModelProfile } from '../jobs/canonicalize.js'
import { loadModelFolder, type ModelFolder } from '../pipelines/model-folder.js'
import { defaultModelDir, resolveModel } from '../pipelines/model-registry.js'

/** What loads models for the workers (the worker's model cache). */
export interface ModelWarmer {
  isLoaded(model: string): boolean
  /** Loads the model if it is not loaded yet. */
  warmup(model: string): Promise<void>
}

/**
 * Names the dialects' documented examples use for their model (`/v2/chroma/runsync`, `POST /v1/chroma`,
 * Chutes' `"model": "qwen-image"`). On a server that offers only the default model they name it, so every
 * example answers on a fresh install; a configured model or alias of the same name wins.
 */
export const DEFAULT_MODEL_ALIASES = ['chroma', 'qwen-image'] as const

export interface CatalogSettings {
  readonly models: readonly string[]
  readonly aliases: Readonly<Record<string, string>>
  readonly defaultModel: string
  /** false hides the models bundled with the package (default true). */
  readonly bundledModels?: boolean
}

export class ServerModelCatalog implements ModelCatalog {
  readonly #folders: ReadonlyMap<string, ModelFolder>
  readonly #aliases: ReadonlyMap<string, string>
  readonly #defaultName: string | undefined
  #warmer: ModelWarmer | undefined

  private constructor(folders: Map<string, ModelFolder>, aliases: Map<string, string>, defaultName?: string) {
    this.#folders = folders
    this.#aliases = aliases
    this.#defaultName = defaultName
  }

  /**
   * Opens every configured folder; throws (naming the model) when one is missing or broken. With none
   * configured, the default model is used when installed (`findDefault`, replaceable for tests).
   */
  static async open(
    settings: CatalogSettings,
    findDefault?: () => string | undefined,
  ): Promise<ServerModelCatalog> {
    const registry = { bundled: settings.bundledModels ?? true }
    const fallback = findDefault ?? (() => defaultModelDir(registry))
    const usesDefault = settings.models.length === 0
    const sources = usesDefault ? [fallback()].filter((dir) => dir !== undefined) : settings.models
    const folders = new Map<string, ModelFolder>()
    for (const source of sources) {
      const folder = await loadModelFolder(resolveModel(source, registry))
      const name = folder.manifest.name || basename(folder.dir)
      if (folders.has(name)) throw errors.MODEL_INVALID(`two configured models are both named "${name}"`)
      folders.set(name, folder)
    }
    const aliases = new Map<string, string>()
    for (const [alias, target] of Object.entries(settings.aliases)) {
      if (!folders.has(target)) {
        throw errors.MODEL_NOT_FOUND(`alias ${alias}=${target}: no configured model is named "${target}"`)
      }
      aliases.set(alias, target)
    }
    const [only] = folders.keys()
    if (usesDefault && only !== undefined) {
      for (const alias of DEFAULT_MODEL_ALIASES)
        if (!folders.has(alias) && !aliases.has(alias)) aliases.set(alias, only)
    }
    const wanted = settings.defaultModel === '' ? undefined : settings.defaultModel
    const defaultName = wanted === undefined ? [...folders.keys()][0] : (aliases.get(wanted) ?? wanted)
    if (wanted !== undefined && !folders.has(defaultName ?? '')) {
      throw errors.MODEL_NOT_FOUND(`default model "${wanted}" is not one of the configured models`)
    }
    return new ServerModelCatalog(folders, aliases, defaultName)
  }

  /** The workers' model cache, once it exists (it needs this catalog first). */
  attachWarmer(warmer: ModelWarmer): void {
    this.#warmer = warmer
  }

  get names(): readonly string[] {
    return [...this.#folders.keys()]
  }

  /** Canonical model name for a name, an alias, or undefined (the default). */
  resolveName(name: string | undefined): string {
    if (this.#folders.size === 0) {
      throw errors.MODEL_NOT_CONFIGURED(
        'no model is configured: start the server with --model DIR (a pigment.json or Optimum folder), ' +
          'or install the default model pigment-shapes',
      )
    }
    if (name === undefined) return this.#defaultName!
    const canonical = this.#aliases.get(name) ?? name
    if (!this.#folders.has(canonical)) {
      throw errors.MODEL_NOT_FOUND(`model: no model "${name}"; available: ${this.#available()}`, {
        field: 'model',
      })
    }
    return canonical
  }

  /** The folder of a model by its canonical name, for the pipeline loader. */
  folder(name: string): ModelFolder {
    const folder = this.#folders.get(this.resolveName(name))
    if (folder === undefined) throw errors.MODEL_NOT_FOUND(`no model "${name}"`, { field: 'model' })
    return folder
  }

  async list(): Promise<readonly ModelSummary[]> {
    return [...this.#folders].map(([name, folder]) => ({
      name,
      family: folder.manifest.family,
      aliases: [...this.#aliases].filter(([, target]) => target === name).map(([alias]) => alias),
      loaded: this.#warmer?.isLoaded(name) ?? false,
      isDefault: name === this.#defaultName,
      defaults: { ...folder.manifest.defaults },
      limits: { ...folder.manifest.limits },
    }))
  }

  async profile(name: string | undefined): Promise<ModelProfile> {
    const canonical = this.resolveName(name)
    const { manifest } = this.#folders.get(canonical)!
    return { name: canonical, defaults: manifest.defaults, limits: manifest.limits }
  }

  async warmup(name: string): Promise<{ readonly model: string; readonly seconds: number }> {
    const model = this.resolveName(name)
    if (this.#warmer === undefined)
      throw errors.UNAVAILABLE('this server runs no workers, so it loads no models')
    const started = performance.now()
    await this.#warmer.warmup(model)
    return { model, seconds: (performance.now() - started) / 1000 }
  }

  async readiness(): Promise<{ readonly ready: boolean; readonly reason?: string }> {
    if (this.#folders.size === 0) return { ready: false, reason: 'no model configured' }
    // Folders were checked at startup; a model is loadable until a load says otherwise.
    return { ready: true }
  }

  #available(): string {
    return [...this.#folders.keys(), ...this.#aliases.keys()].join(', ')
  }
}
