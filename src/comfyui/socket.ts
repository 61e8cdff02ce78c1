/**
 * One websocket per ComfyUI, under one client id that every prompt Pigment sends there carries (ComfyUI
 * sends a prompt's execution messages only to the socket of its `client_id`). Events are handed to the
 * listener registered for their prompt id. Plain preview frames (event 1) carry no prompt id: they go to
 * the prompt ComfyUI said it was executing, since it runs one prompt at a time. A closed socket is
 * reopened on the next `ready()`; listeners hear `onClose` so a run can check the history instead.
 * @module
 */
import { randomUUID } from 'node:crypto'
import WebSocket from 'ws'
import { type ComfyEvent, parseBinaryFrame, parseTextFrame } from './protocol.js'

export interface PromptListener {
  onEvent(event: ComfyEvent): void
  /** The socket closed (ComfyUI restarted or the network dropped). */
  onClose(): void
}

/** Frames larger than this are refused by the socket (a 4K PNG preview is far smaller). */
const MAX_FRAME_BYTES = 64 * 1024 * 1024

export class ComfySocket {
  readonly clientId = `pigment-${randomUUID()}`
  readonly #url: string
  readonly #listeners = new Map<string, PromptListener>()
  #socket: WebSocket | null = null
  #opening: Promise<boolean> | null = null
  #executing: string | null = null
  #closed = false
  /** Time of the last frame received (any prompt); lets runs tell a silent socket from a slow prompt. */
  lastFrameAt = 0

  constructor(socketUrl: (clientId: string) => string) {
    this.#url = socketUrl(this.clientId)
  }

  get open(): boolean {
    return this.#socket?.readyState === WebSocket.OPEN
  }

  listen(promptId: string, listener: PromptListener): () => void {
    this.#listeners.set(promptId, listener)
    return () => {
      if (this.#listeners.get(promptId) === listener) this.#listeners.delete(promptId)
    }
  }

  /** Opens the socket if needed; resolves false when it cannot be opened within `timeoutMs`. */
  ready(timeoutMs = 5000): Promise<boolean> {
    if (this.#closed) return Promise.resolve(false)
    if (this.open) return Promise.resolve(true)
    this.#opening ??= this.#connect(timeoutMs).finally(() => {
      this.#opening = null
    })
    return this.#opening
  }

  close(): void {
    this.#closed = true
    this.#socket?.terminate()
    this.#socket = null
  }

  #connect(timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const socket = new WebSocket(this.#url, { maxPayload: MAX_FRAME_BYTES, handshakeTimeout: timeoutMs })
      let settled = false
      const settle = (ok: boolean) => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        resolve(ok)
      }
      const timer = setTimeout(() => {
        socket.terminate()
        settle(false)
      }, timeoutMs)
      socket.on('open', () => {
        this.#socket = socket
        this.lastFrameAt = Date.now()
        settle(true)
      })
      socket.on('message', (data, isBinary) => this.#onFrame(data, isBinary))
      socket.on('error', () => settle(false))
      socket.on('close', () => {
        settle(false)
        if (this.#socket !== socket) return
        this.#socket = null
        this.#executing = null
        for (const listener of [...this.#listeners.values()]) listener.onClose()
      })
    })
  }

  #onFrame(data: WebSocket.RawData, isBinary: boolean): void {
    this.lastFrameAt = Date.now()
    const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer)
    const event = isBinary ? parseBinaryFrame(bytes) : parseTextFrame(bytes.toString('utf8'))
    if (event === undefined) return
    if (event.kind === 'executing') this.#executing = event.node === null ? null : event.promptId
    const promptId = event.kind === 'preview' ? (event.promptId ?? this.#executing) : event.promptId
    if (promptId !== null) this.#listeners.get(promptId)?.onEvent(event)
  }
}
