/**
 * A protocol-faithful fake of ComfyUI 0.3.64 for tests: HTTP routes, websocket messages, validation errors,
 * queue, history, output cache, interrupts and binary previews as the real server produces them (held to a
 * recording of the real one by test/comfyui/transcript-replay.test.ts). No model runs: samplers only step.
 *
 * ```ts
 * const comfy = await startFakeComfyUI({ models: { checkpoints: ['sd15.safetensors'] }, previews: true })
 * // … point the code under test at comfy.url …
 * await comfy.close()
 * ```
 *
 * Controls
 * - `models`: the files each model folder lists (CheckpointLoaderSimple, UNETLoader, CLIPLoader/DualCLIPLoader,
 *   VAELoader); anything else is `value_not_in_list`, as in ComfyUI.
 * - `stepDelayMs` (default 5): time per sampler step; each step sends `progress_state` + `progress` (+ a preview).
 * - `previews`: send binary preview frames (event 1, or event 4 with metadata after the client's feature_flags).
 * - `gate(point)`: awaited while a node runs (`kind: 'node'`) and after each sampler step (`kind: 'step'`), to
 *   hold execution at an exact point (e.g. interrupt mid-sampling, deterministically). Settable later too.
 * - `faults.silentWebsocket`: sockets connect but receive nothing (the backend must poll /history).
 * - `faults.oomNext = n`: the next n executions fail at their sampler (or first node) with `execution_error`,
 *   `exception_type: 'torch.OutOfMemoryError'`, message `Allocation on device 0 would exceed allowed memory…`.
 * - `faults.failNext = {type, message}`: the next execution fails with that exception.
 * - `faults.hangNext`: the next execution stops at its sampler until interrupted (or the fake stops).
 *   Each fault is used up by the execution that starts next, even if that one dies (restart) before its sampler.
 * - `restart()`: every socket and connection closes, queue, history and cache are forgotten (as a ComfyUI
 *   restart does; saved files survive, as on disk), and it listens again on the same port.
 * - `stop()` / `start()`: the same in two halves; the port refuses connections in between.
 * - `prompts` (every POST /prompt that carried a prompt, with `accepted`), `interrupts`, `deletes`: what
 *   clients asked for. `websockets`: sockets open now.
 *
 * Images: SaveImage writes one PNG per batch element, a solid colour `fakeImageColor(seed, batchIndex)`; an
 * image from seed s in a run of its own is `fakeImageColor(s, 0)`. Each carries the graph as a PNG "prompt" text
 * chunk, as ComfyUI's do. Served by /view as ComfyUI does (type/subfolder/filename, 400/403/404, preview, channel).
 *
 * Faithful quirks worth knowing: messages go only to the socket whose clientId is the prompt's client_id (a
 * prompt without one sends no executing/executed/execution_* messages at all, but progress and progress_state to
 * every socket); re-running an identical graph is served from cache (`execution_cached`, no progress, the old
 * filenames); a second socket with the same clientId takes the id over and loses it when the first one closes;
 * long value lists (> 20, e.g. sampler names) are not echoed in `value_not_in_list` details.
 */

import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { WebSocketServer } from 'ws'
import type { ModelFolders } from './catalogue.js'
import type { Faults, GatePoint } from './execute.js'
import { handle, type Records } from './http.js'
import { Folders } from './images.js'
import { ComfyProcess } from './process.js'

export type { ModelFolders } from './catalogue.js'
export type { Faults, GatePoint } from './execute.js'
export { fakeImageColor, type Rgb } from './images.js'
export { SAMPLER_NAMES, SCHEDULER_NAMES } from './sampling-nodes.js'

export interface FakeComfyUIOptions {
  /** 0/undefined = a random free port on 127.0.0.1 */
  port?: number
  models?: Partial<ModelFolders>
  /** time per sampler step (default 5 ms) */
  stepDelayMs?: number
  /** send binary preview frames during sampling (as with --preview-method) */
  previews?: boolean
  gate?: (point: GatePoint) => void | Promise<void>
}

export interface FakeComfyUI {
  /** http://127.0.0.1:PORT */
  readonly url: string
  readonly port: number
  /** stop listening, drop sockets */
  close(): Promise<void>
  /** like a ComfyUI restart: close every socket and connection, forget queue and history, listen again on the same port */
  restart(): Promise<void>
  /** down (connections refused) … */
  stop(): Promise<void>
  /** … and up again on the same port, with a fresh queue and history */
  start(): Promise<void>
  faults: Faults
  stepDelayMs: number
  previews: boolean
  gate: ((point: GatePoint) => void | Promise<void>) | undefined
  /** everything POSTed to /prompt with a `prompt`, in order */
  readonly prompts: ReadonlyArray<{
    promptId: string
    clientId?: string
    graph: Record<string, unknown>
    accepted: boolean
  }>
  readonly interrupts: number
  readonly deletes: string[]
  /** websocket connections open now */
  readonly websockets: number
}

const DEFAULT_MODELS: ModelFolders = { checkpoints: [], diffusion_models: [], text_encoders: [], vae: [] }

export async function startFakeComfyUI(opts: FakeComfyUIOptions = {}): Promise<FakeComfyUI> {
  const models: ModelFolders = { ...DEFAULT_MODELS, ...opts.models }
  const folders = new Folders()
  const records: Records = { prompts: [], interrupts: 0, deletes: [] }
  const faults: Faults = { silentWebsocket: false, oomNext: 0 }
  let port = opts.port ?? 0
  let server: Server | undefined
  let wss: WebSocketServer | undefined
  let proc: ComfyProcess | undefined

  const fake: FakeComfyUI = {
    get url() {
      return `http://127.0.0.1:${port}`
    },
    get port() {
      return port
    },
    faults,
    stepDelayMs: opts.stepDelayMs ?? 5,
    previews: opts.previews ?? false,
    gate: opts.gate,
    get prompts() {
      return records.prompts
    },
    get interrupts() {
      return records.interrupts
    },
    get deletes() {
      return records.deletes
    },
    get websockets() {
      return proc?.websocketCount ?? 0
    },
    start,
    stop,
    async restart() {
      await stop()
      await start()
    },
    close: stop,
  }

  async function start(): Promise<void> {
    if (server) return
    const current = new ComfyProcess({
      models,
      folders,
      faults,
      previews: () => fake.previews,
      stepDelayMs: () => fake.stepDelayMs,
      gate: () => fake.gate,
    })
    proc = current
    const ctx = { process: () => current, folders, records, previews: () => fake.previews, port: () => port }
    const socketServer = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 })
    const httpServer = createServer((req, res) => void handle(ctx, req, res))
    httpServer.on('upgrade', (req, socket, head) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1')
      if (url.pathname !== '/ws' && url.pathname !== '/api/ws') return void socket.destroy()
      socketServer.handleUpgrade(req, socket, head, (ws) =>
        current.attachSocket(ws, url.searchParams.get('clientId') ?? ''),
      )
    })
    await new Promise<void>((resolve, reject) => {
      httpServer.once('error', reject)
      httpServer.listen(port, '127.0.0.1', () => {
        httpServer.off('error', reject)
        resolve()
      })
    })
    port = (httpServer.address() as AddressInfo).port
    server = httpServer
    wss = socketServer
  }

  async function stop(): Promise<void> {
    const httpServer = server
    if (!httpServer) return
    server = undefined
    proc?.kill()
    proc = undefined
    for (const ws of wss?.clients ?? []) ws.terminate()
    wss?.close()
    wss = undefined
    const closed = new Promise<void>((resolve) => httpServer.close(() => resolve()))
    httpServer.closeAllConnections()
    await closed
  }

  await start()
  return fake
}
