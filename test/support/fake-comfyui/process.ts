// One life of the fake ComfyUI between a start and a stop: its prompt queue and worker (execution.py
// PromptQueue, main.py prompt_worker), its history, output cache, interrupt flag and websocket clients
// (server.py). A restart throws this object away; only the folders outlive it, as files on disk do.

import { randomUUID } from 'node:crypto'
import type { WebSocket } from 'ws'
import { buildCatalogue, type ModelFolders, type NodeClass } from './catalogue.js'
import {
  Abandoned,
  type ExecEnv,
  type Faults,
  type GatePoint,
  type HistoryEntry,
  OutputCache,
  PromptRun,
  type QueueItem,
} from './execute.js'
import { type Folders, previewFrame, previewFrameWithMetadata } from './images.js'

const MAXIMUM_HISTORY_SIZE = 10000
const SENSITIVE_EXTRA_DATA_KEYS = ['auth_token_comfy_org', 'api_key_comfy_org']

export interface ProcessSettings {
  models: ModelFolders
  folders: Folders
  faults: Faults
  previews(): boolean
  stepDelayMs(): number
  gate(): ((point: GatePoint) => void | Promise<void>) | undefined
}

const byNumber = (a: QueueItem, b: QueueItem) => a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0)

export class ComfyProcess {
  /** server.number: the next prompt's queue position, counted for every POST /prompt, valid or not */
  number = 0
  private queue: QueueItem[] = []
  private readonly running = new Map<number, QueueItem>()
  private taskCounter = 0
  private readonly history = new Map<string, HistoryEntry>()
  private readonly cache = new OutputCache()
  private flags: Record<string, unknown> = {}
  private readonly sockets = new Map<string, WebSocket>()
  private readonly socketFlags = new Map<string, Record<string, unknown>>()
  private interrupted = false
  private interruptWaiters = new Set<() => void>()
  private wakeWorker: (() => void) | undefined
  private dead = false
  private clientId: string | null = null
  private lastNodeId: string | null = null
  readonly idle: Promise<void>

  constructor(private readonly settings: ProcessSettings) {
    this.idle = this.workerLoop()
  }

  catalogue(): Record<string, NodeClass> {
    return buildCatalogue(this.settings.models, this.settings.folders.inputFiles())
  }

  /** the process dies: nothing more is sent, the worker stops where it is */
  kill(): void {
    this.dead = true
    this.wakeWorker?.()
    for (const wake of this.interruptWaiters) wake()
    for (const ws of this.sockets.values()) ws.terminate()
    this.sockets.clear()
  }

  get websocketCount(): number {
    return this.sockets.size
  }

  // ---- websocket (server.py websocket_handler, send_json, send_bytes)

  attachSocket(ws: WebSocket, clientId: string): void {
    const sid = clientId || randomUUID().replaceAll('-', '')
    // as ComfyUI does: a second socket with the same clientId takes the id over, and when the older one closes
    // it removes the id again, whichever socket holds it by then
    this.sockets.delete(sid)
    this.sockets.set(sid, ws)
    this.socketFlags.set(sid, {})
    let first = true
    ws.on('message', (raw, isBinary) => {
      if (isBinary || !first) return
      first = false
      try {
        const msg = JSON.parse(raw.toString())
        if (msg?.type === 'feature_flags') {
          const data = msg.data
          this.socketFlags.set(sid, data !== null && typeof data === 'object' ? data : {})
          this.sendTo(ws, {
            type: 'feature_flags',
            data: { supports_preview_metadata: true, max_upload_size: 104857600 },
          })
        }
      } catch {
        // ComfyUI logs "Invalid JSON received from client" and carries on
      }
    })
    ws.on('close', () => {
      this.sockets.delete(sid)
      this.socketFlags.delete(sid)
    })
    ws.on('error', () => {})
    this.sendTo(ws, { type: 'status', data: { status: this.queueInfo(), sid } })
    if (this.clientId === sid && this.lastNodeId !== null) {
      this.sendTo(ws, { type: 'executing', data: { node: this.lastNodeId } })
    }
  }

  private sendTo(ws: WebSocket, message: Record<string, unknown> | Buffer): void {
    if (this.dead || this.settings.faults.silentWebsocket || ws.readyState !== ws.OPEN) return
    ws.send(Buffer.isBuffer(message) ? message : JSON.stringify(message))
  }

  private targets(sid: string | null): WebSocket[] {
    if (sid === null) return [...this.sockets.values()]
    const ws = this.sockets.get(sid)
    return ws ? [ws] : []
  }

  send(event: string, data: Record<string, unknown>, sid: string | null): void {
    for (const ws of this.targets(sid)) this.sendTo(ws, { type: event, data })
  }

  private supportsMetadata(sid: string | null): boolean {
    return sid !== null && this.socketFlags.get(sid)?.supports_preview_metadata === true
  }

  sendPreview(sid: string | null, metadata: Record<string, unknown>): void {
    // main.py sends event 1 unless the prompt's client negotiated metadata; progress.py then sends event 4
    const frame = this.supportsMetadata(sid) ? previewFrameWithMetadata(metadata) : previewFrame()
    for (const ws of this.targets(sid)) this.sendTo(ws, frame)
  }

  // ---- queue (execution.py PromptQueue)

  queueInfo(): { exec_info: { queue_remaining: number } } {
    return { exec_info: { queue_remaining: this.queue.length + this.running.size } }
  }

  private queueUpdated(): void {
    this.send('status', { status: this.queueInfo() }, null)
  }

  put(item: QueueItem): void {
    this.queue.push(item)
    this.queue.sort(byNumber)
    this.queueUpdated()
    this.wakeWorker?.()
  }

  currentQueue(): { running: QueueItem[]; pending: QueueItem[] } {
    return { running: [...this.running.values()], pending: [...this.queue] }
  }

  wipeQueue(): void {
    this.queue = []
    this.queueUpdated()
  }

  deleteQueueItem(promptId: string): boolean {
    const at = this.queue.findIndex((item) => item[1] === promptId)
    if (at < 0) return false
    if (this.queue.length === 1) this.wipeQueue()
    else this.queue.splice(at, 1)
    this.queueUpdated()
    return true
  }

  setFlag(name: string, value: unknown): void {
    this.flags[name] = value
    this.wakeWorker?.()
  }

  getHistory(opts: { promptId?: string; maxItems?: number; offset?: number }): Record<string, HistoryEntry> {
    if (opts.promptId !== undefined) {
      const entry = this.history.get(opts.promptId)
      return entry ? { [opts.promptId]: structuredClone(entry) } : {}
    }
    const out: Record<string, HistoryEntry> = {}
    let offset = opts.offset ?? -1
    const max = opts.maxItems
    if (offset < 0 && max !== undefined) offset = this.history.size - max
    let i = 0
    for (const [id, entry] of this.history) {
      if (i >= offset) {
        out[id] = entry
        if (max !== undefined && Object.keys(out).length >= max) break
      }
      i += 1
    }
    return out
  }

  wipeHistory(): void {
    this.history.clear()
  }

  deleteHistoryItem(promptId: string): void {
    this.history.delete(promptId)
  }

  // ---- interrupt (nodes.interrupt_processing)

  interrupt(promptId?: string): boolean {
    if (promptId && ![...this.running.values()].some((item) => item[1] === promptId)) return false
    this.interrupted = true
    for (const wake of this.interruptWaiters) wake()
    return true
  }

  // ---- worker (main.py prompt_worker)

  private async nextItem(): Promise<[QueueItem, number] | undefined> {
    while (!this.dead) {
      const item = this.queue.shift()
      if (item) {
        const i = this.taskCounter++
        this.running.set(i, structuredClone(item))
        this.queueUpdated()
        return [item, i]
      }
      if (Object.keys(this.flags).length > 0) return undefined
      await new Promise<void>((resolve) => {
        this.wakeWorker = resolve
      })
      this.wakeWorker = undefined
    }
    return undefined
  }

  private env(): ExecEnv {
    return {
      catalogue: this.catalogue(),
      folders: this.settings.folders,
      cache: this.cache,
      faults: this.settings.faults,
      previews: this.settings.previews(),
      stepDelayMs: this.settings.stepDelayMs(),
      gate: this.settings.gate(),
      send: (event, data, sid) => this.send(event, data, sid),
      sendPreview: (sid, metadata) => this.sendPreview(sid, metadata),
      isInterrupted: () => this.interrupted,
      clearInterrupt: () => {
        this.interrupted = false
      },
      waitForInterrupt: () =>
        new Promise<void>((resolve) => {
          if (this.interrupted || this.dead) return resolve()
          const wake = () => {
            this.interruptWaiters.delete(wake)
            resolve()
          }
          this.interruptWaiters.add(wake)
        }),
      alive: () => !this.dead,
      setLastNode: (node) => {
        this.lastNodeId = node
      },
    }
  }

  private async workerLoop(): Promise<void> {
    // let the constructor return before the first wait
    await Promise.resolve()
    while (!this.dead) {
      const next = await this.nextItem()
      if (this.dead) return
      if (next) {
        const [item, i] = next
        const clientId = item[3].client_id
        this.clientId = typeof clientId === 'string' ? clientId : null
        let entry: HistoryEntry
        try {
          entry = await new PromptRun(this.env(), item).run()
        } catch (ex) {
          if (ex instanceof Abandoned) return
          throw ex
        }
        this.taskDone(i, entry)
        if (this.clientId !== null) this.send('executing', { node: null, prompt_id: item[1] }, this.clientId)
      }
      const flags = this.flags
      this.flags = {}
      if (flags.free_memory) this.cache.clear()
    }
  }

  private taskDone(i: number, entry: HistoryEntry): void {
    const prompt = this.running.get(i)!
    this.running.delete(i)
    if (this.history.size > MAXIMUM_HISTORY_SIZE) this.history.delete(this.history.keys().next().value!)
    for (const key of SENSITIVE_EXTRA_DATA_KEYS) delete prompt[3][key]
    this.history.set(prompt[1], { ...entry, prompt })
    this.queueUpdated()
  }
}
