/**
 * ComfyUI's wire shapes (v0.3.64: `server.py`, `execution.py`), narrowed from untrusted JSON. Only the
 * fields Pigment reads are checked; everything else passes untouched. Binary websocket frames are parsed
 * here too (big-endian event type, then the image).
 * @module
 */

/** An API-format graph: node id → `{class_type, inputs}`; a link is `[node id, output index]`. */
export type ComfyGraph = Record<string, { class_type: string; inputs: Record<string, unknown> }>

export interface ImageRef {
  readonly filename: string
  readonly subfolder: string
  readonly type: string
}

/** One `node_errors` entry, flattened: which node and input ComfyUI rejected, and why. */
export interface NodeError {
  readonly nodeId: string
  readonly classType: string
  readonly type: string
  readonly message: string
  readonly details: string
  readonly inputName?: string
}

/** A 400 from `POST /prompt`. */
export interface PromptRejection {
  readonly type: string
  readonly message: string
  readonly details: string
  readonly nodeErrors: readonly NodeError[]
}

/** The websocket events the backend acts on; the rest are ignored. */
export type ComfyEvent =
  | { readonly kind: 'executing'; readonly promptId: string; readonly node: string | null }
  | { readonly kind: 'progress'; readonly promptId: string; readonly value: number; readonly max: number }
  | { readonly kind: 'success'; readonly promptId: string }
  | {
      readonly kind: 'error'
      readonly promptId: string
      readonly nodeType: string
      readonly exceptionType: string
      readonly message: string
    }
  | { readonly kind: 'interrupted'; readonly promptId: string }
  | {
      readonly kind: 'preview'
      readonly promptId?: string
      readonly mime: string
      readonly bytes: Uint8Array
    }

export type HistoryOutcome =
  | { readonly state: 'unknown' }
  | { readonly state: 'success'; readonly images: readonly ImageRef[] }
  | { readonly state: 'error'; readonly event: ComfyEvent | undefined }

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)
const str = (v: unknown, fallback = ''): string => (typeof v === 'string' ? v : fallback)

/** Parses a text frame `{type, data}`; undefined for frames Pigment does not act on. */
export function parseTextFrame(text: string): ComfyEvent | undefined {
  let frame: unknown
  try {
    frame = JSON.parse(text)
  } catch {
    return undefined
  }
  if (!isObject(frame) || !isObject(frame.data)) return undefined
  return toEvent(str(frame.type), frame.data)
}

function toEvent(type: string, data: Record<string, unknown>): ComfyEvent | undefined {
  const promptId = str(data.prompt_id)
  if (promptId === '') return undefined
  switch (type) {
    case 'executing':
      return { kind: 'executing', promptId, node: typeof data.node === 'string' ? data.node : null }
    case 'progress':
      if (typeof data.value !== 'number' || typeof data.max !== 'number') return undefined
      return { kind: 'progress', promptId, value: data.value, max: data.max }
    case 'execution_success':
      return { kind: 'success', promptId }
    case 'execution_error':
      return {
        kind: 'error',
        promptId,
        nodeType: str(data.node_type),
        exceptionType: str(data.exception_type),
        message: str(data.exception_message, 'ComfyUI reported an execution error'),
      }
    case 'execution_interrupted':
      return { kind: 'interrupted', promptId }
    default:
      return undefined
  }
}

const IMAGE_TYPES: Readonly<Record<number, string>> = { 1: 'image/jpeg', 2: 'image/png' }

/**
 * A binary frame: event 1 = preview (uint32 image type, then the image); event 4 = preview with metadata
 * (uint32 JSON length, JSON with `prompt_id` and `image_type`, then the image). Others are ignored.
 */
export function parseBinaryFrame(frame: Uint8Array): ComfyEvent | undefined {
  if (frame.byteLength < 8) return undefined
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength)
  const event = view.getUint32(0)
  if (event === 1) {
    const mime = IMAGE_TYPES[view.getUint32(4)] ?? 'image/jpeg'
    return { kind: 'preview', mime, bytes: frame.subarray(8) }
  }
  if (event === 4) {
    const length = view.getUint32(4)
    if (8 + length > frame.byteLength) return undefined
    let meta: unknown
    try {
      meta = JSON.parse(Buffer.from(frame.subarray(8, 8 + length)).toString('utf8'))
    } catch {
      return undefined
    }
    if (!isObject(meta)) return undefined
    const mime = str(meta.image_type, 'image/jpeg')
    const promptId = str(meta.prompt_id)
    const bytes = frame.subarray(8 + length)
    return promptId === '' ? { kind: 'preview', mime, bytes } : { kind: 'preview', promptId, mime, bytes }
  }
  return undefined
}

/** `POST /prompt` 400 body → the rejection; tolerant of missing fields. */
export function parseRejection(body: unknown): PromptRejection {
  const error = isObject(body) && isObject(body.error) ? body.error : {}
  const nodeErrors: NodeError[] = []
  const nodes = isObject(body) && isObject(body.node_errors) ? body.node_errors : {}
  for (const [nodeId, node] of Object.entries(nodes)) {
    if (!isObject(node) || !Array.isArray(node.errors)) continue
    for (const item of node.errors) {
      if (!isObject(item)) continue
      const extra = isObject(item.extra_info) ? item.extra_info : {}
      const inputName = str(extra.input_name)
      nodeErrors.push({
        nodeId,
        classType: str(node.class_type),
        type: str(item.type),
        message: str(item.message),
        details: str(item.details),
        ...(inputName === '' ? {} : { inputName }),
      })
    }
  }
  return {
    type: str(error.type, 'invalid_prompt'),
    message: str(error.message, 'ComfyUI rejected the workflow'),
    details: str(error.details),
    nodeErrors,
  }
}

/** `GET /history/{id}` body → how that prompt ended, or unknown (not finished yet, or forgotten). */
export function parseHistory(body: unknown, promptId: string): HistoryOutcome {
  const entry = isObject(body) ? body[promptId] : undefined
  if (!isObject(entry)) return { state: 'unknown' }
  const status = isObject(entry.status) ? entry.status : {}
  const statusStr = str(status.status_str)
  if (statusStr === 'error') {
    const messages = Array.isArray(status.messages) ? status.messages : []
    let event: ComfyEvent | undefined
    for (const message of messages) {
      if (Array.isArray(message) && isObject(message[1])) {
        const parsed = toEvent(str(message[0]), { prompt_id: promptId, ...message[1] })
        if (parsed?.kind === 'error' || parsed?.kind === 'interrupted') event = parsed
      }
    }
    return { state: 'error', event }
  }
  if (statusStr !== 'success' && status.completed !== true) return { state: 'unknown' }
  return { state: 'success', images: outputImages(entry.outputs) }
}

/** Every saved image (`type: output`) of a history entry's outputs, in node order. */
export function outputImages(outputs: unknown): ImageRef[] {
  const images: ImageRef[] = []
  if (!isObject(outputs)) return images
  for (const output of Object.values(outputs)) {
    if (!isObject(output) || !Array.isArray(output.images)) continue
    for (const image of output.images) {
      if (!isObject(image) || typeof image.filename !== 'string') continue
      const type = str(image.type, 'output')
      if (type !== 'output') continue
      images.push({ filename: image.filename, subfolder: str(image.subfolder), type })
    }
  }
  return images
}

/** Prompt ids running or pending in a `GET /queue` body (item[1] of each entry). */
export function queuedPromptIds(body: unknown): Set<string> {
  const ids = new Set<string>()
  if (!isObject(body)) return ids
  for (const list of [body.queue_running, body.queue_pending]) {
    if (!Array.isArray(list)) continue
    for (const item of list) if (Array.isArray(item) && typeof item[1] === 'string') ids.add(item[1])
  }
  return ids
}

/** The model files a ComfyUI offers, by loader, from `GET /object_info`. */
export interface ModelFiles {
  readonly checkpoints: readonly string[]
  readonly diffusionModels: readonly string[]
  readonly textEncoders: readonly string[]
  readonly vae: readonly string[]
}

function choices(info: Record<string, unknown>, node: string, input: string): string[] {
  const def = info[node]
  if (!isObject(def) || !isObject(def.input) || !isObject(def.input.required)) return []
  const spec = def.input.required[input]
  if (!Array.isArray(spec) || !Array.isArray(spec[0])) return []
  return spec[0].filter((v): v is string => typeof v === 'string')
}

export function parseModelFiles(body: unknown): ModelFiles {
  const info = isObject(body) ? body : {}
  return {
    checkpoints: choices(info, 'CheckpointLoaderSimple', 'ckpt_name'),
    diffusionModels: choices(info, 'UNETLoader', 'unet_name'),
    textEncoders: choices(info, 'CLIPLoader', 'clip_name'),
    vae: choices(info, 'VAELoader', 'vae_name'),
  }
}
