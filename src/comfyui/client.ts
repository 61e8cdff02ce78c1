/**
 * ComfyUI's HTTP routes, one method each. Every call has a deadline, so an unreachable or stuck ComfyUI
 * turns into an UNAVAILABLE error instead of a hang. A 400 from `POST /prompt` becomes a
 * `PromptRejectedError` carrying ComfyUI's `node_errors`.
 * @module
 */
import { randomUUID } from 'node:crypto'
import { errors, type PigmentError } from '../core/errors.js'
import {
  type ComfyGraph,
  type HistoryOutcome,
  type ImageRef,
  type ModelFiles,
  type PromptRejection,
  parseHistory,
  parseModelFiles,
  parseRejection,
  queuedPromptIds,
} from './protocol.js'

/** ComfyUI refused a workflow at validation (HTTP 400): nothing was queued. */
export class PromptRejectedError extends Error {
  constructor(readonly rejection: PromptRejection) {
    super(rejection.message)
    this.name = 'PromptRejectedError'
  }
}

export interface ComfyClientOptions {
  /** Deadline of each HTTP call (default 10 s); image downloads get four times as long. */
  readonly timeoutMs?: number
}

/** The largest image or JSON body Pigment reads from a ComfyUI. */
const MAX_BODY_BYTES = 256 * 1024 * 1024

export class ComfyClient {
  readonly url: string
  readonly #timeoutMs: number

  constructor(url: string, options: ComfyClientOptions = {}) {
    this.url = url.replace(/\/+$/, '')
    this.#timeoutMs = options.timeoutMs ?? 10_000
  }

  /** `ws://…/ws?clientId=…` for this server. */
  socketUrl(clientId: string): string {
    return `${this.url.replace(/^http/, 'ws')}/ws?clientId=${encodeURIComponent(clientId)}`
  }

  async systemStats(): Promise<Record<string, unknown>> {
    return (await this.#json('GET', '/system_stats')) as Record<string, unknown>
  }

  async modelFiles(): Promise<ModelFiles> {
    return parseModelFiles(await this.#json('GET', '/object_info', undefined, this.#timeoutMs * 3))
  }

  /** Queues a graph; resolves with its prompt id. Throws PromptRejectedError on a validation failure. */
  async submit(graph: ComfyGraph, clientId: string, promptId: string = randomUUID()): Promise<string> {
    const response = await this.#fetch('POST', '/prompt', {
      prompt: graph,
      client_id: clientId,
      prompt_id: promptId,
    })
    const body = await readJson(response)
    if (response.status === 400) throw new PromptRejectedError(parseRejection(body))
    if (!response.ok) throw this.#unavailable(`POST /prompt answered ${response.status}`)
    const id = (body as { prompt_id?: unknown } | null)?.prompt_id
    return typeof id === 'string' ? id : promptId
  }

  async history(promptId: string): Promise<HistoryOutcome> {
    return parseHistory(await this.#json('GET', `/history/${encodeURIComponent(promptId)}`), promptId)
  }

  /** Prompt ids running or waiting in ComfyUI's queue. */
  async queued(): Promise<Set<string>> {
    return queuedPromptIds(await this.#json('GET', '/queue'))
  }

  async view(image: ImageRef): Promise<Uint8Array> {
    const query = new URLSearchParams({
      filename: image.filename,
      subfolder: image.subfolder,
      type: image.type,
    })
    const response = await this.#fetch('GET', `/view?${query}`, undefined, this.#timeoutMs * 4)
    if (!response.ok) throw this.#unavailable(`GET /view ${image.filename} answered ${response.status}`)
    return readBytes(response)
  }

  /** Removes pending prompts from ComfyUI's queue (a running one is not affected). */
  async deleteQueued(promptIds: readonly string[]): Promise<void> {
    await this.#expectOk('POST', '/queue', { delete: promptIds })
  }

  /** Stops `promptId` if it is the one running now. */
  async interrupt(promptId: string): Promise<void> {
    await this.#expectOk('POST', '/interrupt', { prompt_id: promptId })
  }

  /** Uploads an input image (`POST /upload/image`); resolves with the name ComfyUI stored it under. */
  async uploadImage(name: string, bytes: Uint8Array): Promise<string> {
    const form = new FormData()
    form.append('image', new Blob([bytes]), name)
    form.append('type', 'input')
    form.append('overwrite', 'true')
    const response = await this.#fetch('POST', '/upload/image', form)
    const body = await readJson(response)
    if (!response.ok) throw this.#unavailable(`POST /upload/image answered ${response.status}`)
    const stored = (body as { name?: unknown } | null)?.name
    return typeof stored === 'string' ? stored : name
  }

  async #expectOk(method: string, path: string, body?: unknown): Promise<void> {
    const response = await this.#fetch(method, path, body)
    await response.arrayBuffer().catch(() => undefined)
    if (!response.ok) throw this.#unavailable(`${method} ${path} answered ${response.status}`)
  }

  async #json(method: string, path: string, body?: unknown, timeoutMs?: number): Promise<unknown> {
    const response = await this.#fetch(method, path, body, timeoutMs)
    if (!response.ok) {
      await response.arrayBuffer().catch(() => undefined)
      throw this.#unavailable(`${method} ${path} answered ${response.status}`)
    }
    return readJson(response)
  }

  async #fetch(method: string, path: string, body?: unknown, timeoutMs = this.#timeoutMs): Promise<Response> {
    const init: RequestInit = { method, signal: AbortSignal.timeout(timeoutMs) }
    if (body instanceof FormData) init.body = body
    else if (body !== undefined) {
      init.body = JSON.stringify(body)
      init.headers = { 'content-type': 'application/json' }
    }
    try {
      return await fetch(`${this.url}${path}`, init)
    } catch (cause) {
      const reason = (cause as { cause?: { code?: string } }).cause?.code ?? (cause as Error).message
      throw this.#unavailable(`${method} ${path} failed: ${reason}`, cause)
    }
  }

  #unavailable(detail: string, cause?: unknown): PigmentError {
    return errors.UNAVAILABLE(`ComfyUI at ${this.url} is not reachable: ${detail}`, {
      ...(cause === undefined ? {} : { cause }),
      retryAfterSeconds: 5,
    })
  }
}

async function readBytes(response: Response): Promise<Uint8Array> {
  const length = Number(response.headers.get('content-length') ?? 0)
  if (length > MAX_BODY_BYTES)
    throw errors.UNAVAILABLE(`ComfyUI sent ${length} bytes, more than Pigment reads`)
  const bytes = new Uint8Array(await response.arrayBuffer())
  if (bytes.byteLength > MAX_BODY_BYTES)
    throw errors.UNAVAILABLE('ComfyUI sent more bytes than Pigment reads')
  return bytes
}

async function readJson(response: Response): Promise<unknown> {
  const bytes = await readBytes(response)
  if (bytes.byteLength === 0) return null
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8'))
  } catch {
    return null
  }
}
