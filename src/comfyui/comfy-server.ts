/**
 * One ComfyUI as the backend sees it: its client and socket, whether it answers, which model files it
 * offers (`/object_info`, read again whenever it comes back), and how many of its slots Pigment uses.
 * @module
 */
import { ComfyClient } from './client.js'
import type { ModelFiles } from './protocol.js'
import { ComfySocket } from './socket.js'

export interface ServerState {
  readonly up: boolean
  /** Why it is down (the last probe's error), '' when up. */
  readonly reason: string
  /** null until `/object_info` was read. */
  readonly files: ModelFiles | null
  readonly device: string
}

export class ComfyServer {
  readonly client: ComfyClient
  readonly socket: ComfySocket
  readonly slots: number
  running = 0
  #state: ServerState = { up: false, reason: 'not probed yet', files: null, device: '' }
  #probing: Promise<void> | null = null

  constructor(url: string, slots: number) {
    this.client = new ComfyClient(url)
    this.socket = new ComfySocket((id) => this.client.socketUrl(id))
    this.slots = slots
  }

  get url(): string {
    return this.client.url
  }

  get state(): ServerState {
    return this.#state
  }

  get free(): boolean {
    return this.#state.up && this.running < this.slots
  }

  /** Whether this ComfyUI lists every one of `files` (unknown lists count as no). */
  has(files: readonly string[]): boolean {
    const lists = this.#state.files
    if (lists === null) return false
    const all = new Set([...lists.checkpoints, ...lists.diffusionModels, ...lists.textEncoders, ...lists.vae])
    return files.every((file) => all.has(file))
  }

  /** Every model file it offers, for error messages. */
  listedFiles(): readonly string[] {
    const lists = this.#state.files
    return lists === null
      ? []
      : [...lists.checkpoints, ...lists.diffusionModels, ...lists.textEncoders, ...lists.vae]
  }

  /** Probes `/system_stats`; after a down period (or the first time), reads the model files again. */
  probe(): Promise<void> {
    this.#probing ??= this.#probe().finally(() => {
      this.#probing = null
    })
    return this.#probing
  }

  markDown(reason: string): void {
    this.#state = { ...this.#state, up: false, reason }
  }

  close(): void {
    this.socket.close()
  }

  async #probe(): Promise<void> {
    try {
      const stats = await this.client.systemStats()
      const files =
        this.#state.up && this.#state.files !== null ? this.#state.files : await this.client.modelFiles()
      const devices = Array.isArray(stats.devices) ? (stats.devices as { name?: unknown }[]) : []
      const device = typeof devices[0]?.name === 'string' ? devices[0].name : ''
      this.#state = { up: true, reason: '', files, device }
      // open the socket ahead of the first job; a failure here is retried when a job needs it
      void this.socket.ready()
    } catch (error) {
      this.#state = { ...this.#state, up: false, reason: (error as Error).message }
    }
  }
}
