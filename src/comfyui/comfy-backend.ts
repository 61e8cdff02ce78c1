/**
 * The ComfyUI backend: any number of ComfyUI servers and the model entries they serve, behind the same
 * `PipelineSource` the worker uses for in-process models. A job goes to a ComfyUI that is up, lists the
 * model's files and has a free slot (least busy first); one that is down is skipped, not waited for. Each
 * server is probed every `healthMs`, so readiness follows ComfyUI going away and coming back.
 * @module
 */
import { errors } from '../core/errors.js'
import type { ImagePipeline } from '../pipelines/pipeline.js'
import type { PipelineHandle, PipelineSource } from '../worker/model-cache.js'
import { ComfyPipeline, type ServerLease } from './comfy-pipeline.js'
import { ComfyServer } from './comfy-server.js'
import type { ComfyModel } from './model-entries.js'
import type { RunPromptTiming } from './run-prompt.js'

export interface ComfyBackendOptions {
  readonly urls: readonly string[]
  readonly models: readonly ComfyModel[]
  /** Prompts in flight per ComfyUI (default 1). */
  readonly slots?: number
  /** Probe interval (default 5 s). */
  readonly healthMs?: number
  readonly timing?: RunPromptTiming
}

export interface ModelReadiness {
  readonly ready: boolean
  readonly reason?: string
}

export class ComfyBackend implements PipelineSource {
  readonly servers: readonly ComfyServer[]
  readonly #models: ReadonlyMap<string, ComfyModel>
  readonly #healthMs: number
  readonly #timing: RunPromptTiming
  readonly #pipelines = new Map<string, ImagePipeline>()
  /** Jobs waiting for a slot, woken whenever one frees up or a server comes back. */
  #waiters = new Set<() => void>()
  #timer: NodeJS.Timeout | null = null

  constructor(options: ComfyBackendOptions) {
    this.servers = [...new Set(options.urls)].map((url) => new ComfyServer(url, options.slots ?? 1))
    this.#models = new Map(options.models.map((model) => [model.name, model]))
    this.#healthMs = options.healthMs ?? 5000
    this.#timing = options.timing ?? {}
  }

  get models(): readonly ComfyModel[] {
    return [...this.#models.values()]
  }

  has(model: string): boolean {
    return this.#models.has(model)
  }

  /** Probes every server once (a down one is only recorded), then keeps probing in the background. */
  async start(): Promise<void> {
    await this.#probeAll()
    this.#timer ??= setInterval(() => void this.#probeAll(), this.#healthMs)
    this.#timer.unref()
  }

  close(): void {
    if (this.#timer !== null) clearInterval(this.#timer)
    this.#timer = null
    for (const server of this.servers) server.close()
    this.#wake()
  }

  /** Up when some ComfyUI that answers lists the model's files. */
  readiness(model: string): ModelReadiness {
    const entry = this.#models.get(model)
    if (entry === undefined) return { ready: false, reason: `${model}: not a ComfyUI model` }
    // no ComfyUI here: an API process of a fleet, whose workers hold the ComfyUIs and advertise their slots
    if (this.servers.length === 0) return { ready: true }
    const up = this.servers.filter((server) => server.state.up)
    if (up.some((server) => server.has(entry.files))) return { ready: true }
    if (up.length === 0) return { ready: false, reason: `${model}: ${this.#whyNone(entry)}` }
    const listed = [...new Set(up.flatMap((server) => server.listedFiles()))]
    return {
      ready: false,
      reason: `${model}: no reachable ComfyUI lists ${entry.files.join(', ')} (they have: ${listed.join(', ') || 'no model files'})`,
    }
  }

  /** Throws UNAVAILABLE (503) when no ComfyUI can run the model now, so a request fails fast instead of waiting. */
  assertAvailable(model: string): void {
    const entry = this.#models.get(model)
    if (entry === undefined || this.servers.length === 0 || this.#candidates(entry).length > 0) return
    throw errors.UNAVAILABLE(`model ${model} runs on ComfyUI, and ${this.#whyNone(entry)}`, {
      retryAfterSeconds: 5,
    })
  }

  async acquire(model: string): Promise<PipelineHandle> {
    const entry = this.#models.get(model)
    if (entry === undefined) throw errors.MODEL_NOT_FOUND(`no ComfyUI model "${model}"`, { field: 'model' })
    let pipeline = this.#pipelines.get(model)
    if (pipeline === undefined) {
      pipeline = new ComfyPipeline({
        model: entry,
        lease: (m, signal) => this.lease(m, signal),
        timing: this.#timing,
      })
      this.#pipelines.set(model, pipeline)
    }
    return { pipeline, release() {} }
  }

  /**
   * Holds a slot on the best ComfyUI for `model`: up, listing its files (any up server for a workflow, or
   * when none lists them, so ComfyUI itself names what it has), least busy. Waits while all are busy, and
   * up to `timing.unreachableMs` while none is up.
   */
  async lease(model: ComfyModel, signal?: AbortSignal): Promise<ServerLease> {
    // a job already queued outlives a short ComfyUI restart instead of spending its attempts at once
    const giveUpAt = Date.now() + (this.#timing.unreachableMs ?? 30_000)
    for (;;) {
      signal?.throwIfAborted()
      const candidates = this.#candidates(model)
      if (candidates.length === 0 && Date.now() < giveUpAt) {
        await this.#waitForChange(signal)
        continue
      }
      if (candidates.length === 0) {
        throw errors.UNAVAILABLE(`model ${model.name} runs on ComfyUI, and ${this.#whyNone(model)}`, {
          retryAfterSeconds: 5,
        })
      }
      const free = candidates.filter((server) => server.free).sort((a, b) => a.running - b.running)[0]
      if (free !== undefined) {
        free.running++
        let released = false
        return {
          server: free,
          release: () => {
            if (released) return
            released = true
            free.running--
            this.#wake()
          },
        }
      }
      await this.#waitForChange(signal)
    }
  }

  /** A server for a raw workflow (the RunPod passthrough): any that is up, least busy. */
  leaseAny(signal?: AbortSignal): Promise<ServerLease> {
    const any: ComfyModel = {
      name: 'workflow',
      aliases: [],
      family: 'comfyui',
      defaults: {} as ComfyModel['defaults'],
      limits: {} as ComfyModel['limits'],
      spec: { template: 'workflow', files: {} },
      files: [],
    }
    return this.lease(any, signal)
  }

  get timing(): RunPromptTiming {
    return this.#timing
  }

  /** Servers that may run the model: those listing its files, else any that is up (ComfyUI then names what it has). */
  #candidates(model: ComfyModel): ComfyServer[] {
    const up = this.servers.filter((server) => server.state.up)
    const having = up.filter((server) => server.has(model.files))
    return having.length > 0 ? having : up
  }

  #whyNone(model: ComfyModel): string {
    if (this.servers.length === 0) return 'no ComfyUI is configured (--comfyui URL)'
    const down = this.servers.filter((server) => !server.state.up)
    if (down.length === this.servers.length) {
      return `no ComfyUI is reachable (${down.map((s) => `${s.url}: ${s.state.reason}`).join('; ')})`
    }
    return `no ComfyUI can run it (${model.files.join(', ')})`
  }

  async #probeAll(): Promise<void> {
    const before = this.servers.map((server) => server.state.up)
    await Promise.all(this.servers.map((server) => server.probe()))
    if (this.servers.some((server, i) => server.state.up !== before[i])) this.#wake()
  }

  #waitForChange(signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.#waiters.delete(done)
        signal?.removeEventListener('abort', done)
        clearTimeout(timer)
        resolve()
      }
      // a probe can change the picture without a slot freeing up: look again at least that often
      const timer = setTimeout(done, this.#healthMs)
      this.#waiters.add(done)
      signal?.addEventListener('abort', done, { once: true })
    })
  }

  #wake(): void {
    const waiters = [...this.#waiters]
    this.#waiters = new Set()
    for (const wake of waiters) wake()
  }
}
