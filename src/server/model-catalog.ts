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

/** Models served by another backend (ComfyUI): listed and resolved like folders, run elsewhere. */
export interface RemoteModels {
  readonly models: readonly {
    readonly name: string
    readonly aliases: readonly string[]
    readonly family: string
    readonly defaults: NonNullable<ModelProfile['defaults']>
    readonly limits: NonNullable<ModelProfile['limits']>
  }[]
  readiness(name: string): { readonly ready: boolean; readonly reason?: string }
  /** Throws UNAVAILABLE when the model cannot run now (its backend is unreachable). */
  assertAvailable(name: string): void
}

type RemoteModel = RemoteModels['models'][number]

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
  readonly #remote: ReadonlyMap<string, RemoteModel>
  readonly #remoteSource: RemoteModels | undefined
  #warmer: ModelWarmer | undefined

  private constructor(
    folders: Map<string, ModelFolder>,
    aliases: Map<string, string>,
    defaultName: string | undefined,
    remote: RemoteModels | undefined,
  ) {
    this.#folders = folders
    this.#aliases = aliases
    this.#defaultName = defaultName
    this.#remoteSource = remote
    this.#remote = new Map((remote?.models ?? []).map((model) => [model.name, model]))
  }

  /**
   * Opens every configured folder; throws (naming the model) when one is missing or broken. With none
   * configured, the default model is used when installed (`findDefault`, replaceable for tests).
   */
  static async open(
    settings: CatalogSettings,
    findDefault?: () => string | undefined,
    remote?: RemoteModels,
  ): Promise<ServerModelCatalog> {
    const registry = { bundled: settings.bundledModels ?? true }
    const fallback = findDefault ?? (() => defaultModelDir(registry))
    // with ComfyUI models configured, the built-in demo model is not slipped in beside them
    const hasRemote = (remote?.models.length ?? 0) > 0
    const usesDefault = settings.models.length === 0 && !hasRemote
    const sources = usesDefault ? [fallback()].filter((dir) => dir !== undefined) : settings.models
    const folders = new Map<string, ModelFolder>()
    for (const source of sources) {
      const folder = await loadModelFolder(resolveModel(source, registry))
      const name = folder.manifest.name || basename(folder.dir)
      if (folders.has(name)) throw errors.MODEL_INVALID(`two configured models are both named "${name}"`)
      folders.set(name, folder)
    }
    const remoteNames = new Set<string>()
    const aliases = new Map<string, string>()
    for (const model of remote?.models ?? []) {
      if (folders.has(model.name) || remoteNames.has(model.name))
        throw errors.MODEL_INVALID(`two configured models are both named "${model.name}"`)
      remoteNames.add(model.name)
      for (const alias of model.aliases) aliases.set(alias, model.name)
    }
    const known = (name: string) => folders.has(name) || remoteNames.has(name)
    for (const [alias, target] of Object.entries(settings.aliases)) {
      if (!known(target)) {
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
    const defaultName =
      wanted === undefined ? [...folders.keys(), ...remoteNames][0] : (aliases.get(wanted) ?? wanted)
    if (wanted !== undefined && !known(defaultName ?? '')) {
      throw errors.MODEL_NOT_FOUND(`default model "${wanted}" is not one of the configured models`)
    }
    return new ServerModelCatalog(folders, aliases, defaultName, remote)
  }

  /** The workers' model cache, once it exists (it needs this catalog first). */
  attachWarmer(warmer: ModelWarmer): void {
    this.#warmer = warmer
  }

  /** Every model's name, in-process folders first. */
  get names(): readonly string[] {
    return [...this.#folders.keys(), ...this.#remote.keys()]
  }

  /** Whether a canonical name is a model of another backend (ComfyUI), not a folder. */
  isRemote(name: string): boolean {
    return this.#remote.has(name)
  }

  /** Canonical model name for a name, an alias, or undefined (the default). */
  resolveName(name: string | undefined): string {
    if (this.#folders.size === 0 && this.#remote.size === 0) {
      throw errors.MODEL_NOT_CONFIGURED(
        'no model is configured: start the server with --model DIR (a pigment.json or Optimum folder), ' +
          'or install the default model pigment-shapes',
      )
    }
    if (name === undefined) return this.#defaultName!
    const canonical = this.#aliases.get(name) ?? name
    if (!this.#folders.has(canonical) && !this.#remote.has(canonical)) {
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
    const aliasesOf = (name: string) =>
      [...this.#aliases].filter(([, target]) => target === name).map(([alias]) => alias)
    const local = [...this.#folders].map(([name, folder]) => ({
      name,
      family: folder.manifest.family,
      aliases: aliasesOf(name),
      loaded: this.#warmer?.isLoaded(name) ?? false,
      isDefault: name === this.#defaultName,
      defaults: { ...folder.manifest.defaults },
      limits: { ...folder.manifest.limits },
    }))
    const remote = [...this.#remote.values()].map((model) => ({
      name: model.name,
      family: model.family,
      aliases: aliasesOf(model.name),
      // a ComfyUI model is "loaded" while a ComfyUI that has it answers
      loaded: this.#remoteSource?.readiness(model.name).ready ?? false,
      isDefault: model.name === this.#defaultName,
      defaults: { ...model.defaults },
      limits: { ...model.limits },
    }))
    return [...local, ...remote]
  }

  async profile(name: string | undefined): Promise<ModelProfile> {
    const canonical = this.resolveName(name)
    const remote = this.#remote.get(canonical)
    if (remote !== undefined) return { name: canonical, defaults: remote.defaults, limits: remote.limits }
    const { manifest } = this.#folders.get(canonical)!
    return { name: canonical, defaults: manifest.defaults, limits: manifest.limits }
  }

  /** Throws UNAVAILABLE when a ComfyUI model has no ComfyUI to run on now (a generation fails fast, never hangs). */
  async assertAvailable(name: string): Promise<void> {
    const canonical = this.resolveName(name)
    if (this.#remote.has(canonical)) this.#remoteSource?.assertAvailable(canonical)
  }

  /** Whether one model can run now (RunPod's per-endpoint health). */
  async modelReadiness(name: string): Promise<{ readonly ready: boolean; readonly reason?: string }> {
    const canonical = this.resolveName(name)
    return this.#remoteSource?.readiness(canonical) ?? { ready: true }
  }

  async warmup(name: string): Promise<{ readonly model: string; readonly seconds: number }> {
    const model = this.resolveName(name)
    if (this.#remote.has(model)) {
      // ComfyUI loads its own weights on the first prompt; here warm-up only checks it can run
      this.#remoteSource?.assertAvailable(model)
      return { model, seconds: 0 }
    }
    if (this.#warmer === undefined)
      throw errors.UNAVAILABLE('this server runs no workers, so it loads no models')
    const started = performance.now()
    await this.#warmer.warmup(model)
    return { model, seconds: (performance.now() - started) / 1000 }
  }

  async readiness(): Promise<{ readonly ready: boolean; readonly reason?: string }> {
    if (this.#folders.size === 0 && this.#remote.size === 0)
      return { ready: false, reason: 'no model configured' }
    // Folders were checked at startup; a model is loadable until a load says otherwise. ComfyUI models are
    // ready while a ComfyUI that has them answers.
    const unready = [...this.#remote.keys()]
      .map((name) => this.#remoteSource?.readiness(name))
      .filter((r) => r !== undefined && !r.ready)
    if (unready.length > 0) return { ready: false, reason: unready.map((r) => r?.reason).join('; ') }
    return { ready: true }
  }

  #available(): string {
    return [...this.#folders.keys(), ...this.#remote.keys(), ...this.#aliases.keys()].join(', ')
  }
}
