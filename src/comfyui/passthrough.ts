/**
 * RunPod's `comfy` passthrough: a raw API-format workflow, with input images uploaded first (`images:
 * [{name, image}]`, base64 or a data URL, as RunPod's worker-comfyui takes them), run on any ComfyUI that
 * answers; its saved images come back as bytes for the caller to store.
 * @module
 */
import { errors } from '../core/errors.js'
import { PromptRejectedError } from './client.js'
import type { ComfyBackend } from './comfy-backend.js'
import { rejectionError } from './comfy-errors.js'
import type { ComfyGraph } from './protocol.js'
import { runPrompt } from './run-prompt.js'

export interface PassthroughImage {
  readonly name: string
  /** Base64, optionally as a `data:image/…;base64,` URL. */
  readonly image: string
}

export interface PassthroughResult {
  readonly promptId: string
  readonly server: string
  readonly images: readonly { readonly filename: string; readonly bytes: Uint8Array }[]
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9 ._-]{0,199}$/
const BASE64 = /^[A-Za-z0-9+/\s]*={0,2}\s*$/

/** Checks the graph's shape (node id → `{class_type, inputs}`), naming the first bad node. */
export function asGraph(value: unknown, field: string): ComfyGraph {
  if (
    typeof value !== 'object' ||
    value === null ||
    Array.isArray(value) ||
    Object.keys(value).length === 0
  ) {
    throw errors.REQUEST_INVALID_PARAM(
      `${field} must be an API-format workflow: {"<node id>": {class_type, inputs}}`,
      {
        field,
      },
    )
  }
  const entries = Object.entries(value)
  if (entries.length > 2000)
    throw errors.REQUEST_INVALID_PARAM(`${field} has more than 2000 nodes`, { field })
  for (const [id, node] of entries) {
    const n = node as { class_type?: unknown; inputs?: unknown } | null
    if (
      typeof n !== 'object' ||
      n === null ||
      typeof n.class_type !== 'string' ||
      typeof n.inputs !== 'object' ||
      n.inputs === null
    ) {
      throw errors.REQUEST_INVALID_PARAM(`${field}.${id} must be {class_type: string, inputs: object}`, {
        field: `${field}.${id}`,
      })
    }
  }
  return value as ComfyGraph
}

function decodeImage(item: PassthroughImage, index: number): Uint8Array {
  const field = `input.images[${index}]`
  if (typeof item?.name !== 'string' || !NAME.test(item.name) || item.name.includes('..')) {
    throw errors.REQUEST_INVALID_PARAM(`${field}.name must be a plain file name`, { field: `${field}.name` })
  }
  const raw = typeof item.image === 'string' ? item.image.replace(/^data:[^,]{0,100},/, '') : ''
  if (raw === '' || !BASE64.test(raw)) {
    throw errors.REQUEST_INVALID_PARAM(`${field}.image must be base64 image data`, {
      field: `${field}.image`,
    })
  }
  return Buffer.from(raw, 'base64')
}

export async function runPassthrough(
  backend: ComfyBackend,
  graph: ComfyGraph,
  images: readonly PassthroughImage[],
  signal?: AbortSignal,
): Promise<PassthroughResult> {
  if (images.length > 64)
    throw errors.REQUEST_INVALID_PARAM('at most 64 input images', { field: 'input.images' })
  const uploads = images.map((item, i) => ({ name: item.name, bytes: decodeImage(item, i) }))
  const lease = await backend.leaseAny(signal)
  try {
    const { client } = lease.server
    for (const upload of uploads) await client.uploadImage(upload.name, upload.bytes)
    const run = await runPrompt(
      lease.server,
      graph,
      signal === undefined ? {} : { signal },
      backend.timing,
    ).catch((error: unknown) => {
      throw error instanceof PromptRejectedError ? rejectionError(error.rejection) : error
    })
    const outputs = []
    for (const ref of run.images) outputs.push({ filename: ref.filename, bytes: await client.view(ref) })
    return { promptId: run.promptId, server: client.url, images: outputs }
  } finally {
    lease.release()
  }
}
