/**
 * RunPod's `comfy` passthrough (seed `000_…`: `{comfy: true, payload: <ComfyUI /prompt body>}`): the raw
 * workflow runs on one of the server's ComfyUIs, input images (`images: [{name, image}]`, as RunPod's
 * worker-comfyui takes them) uploaded first; the saved images are stored like generated ones and returned
 * as the worker's output: `prompt_id` (the cheat sheet's `ok_comfy`) plus the URLs and keys of `ok_results`.
 * @module
 */
import { randomUUID } from 'node:crypto'
import { errors } from '../../core/errors.js'
import { assetKey, contentTypeForKey } from '../../storage/blob-key.js'
import type { ApiDeps } from '../shared/deps.js'
import type { WorkerOutput } from './schema.js'

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)

/** The `/prompt` body's graph (`payload.prompt`), or the payload itself when it is the graph. */
function graphOf(payload: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const graph = isObject(payload.prompt) ? payload.prompt : payload
  const nodes = Object.entries(graph)
  if (nodes.length === 0)
    throw invalid('payload.prompt', 'payload.prompt must be a ComfyUI API-format workflow')
  if (nodes.length > 2000) throw invalid('payload.prompt', 'payload.prompt has more than 2000 nodes')
  for (const [id, node] of nodes) {
    if (!isObject(node) || typeof node.class_type !== 'string' || !isObject(node.inputs)) {
      throw invalid(`payload.prompt.${id}`, `node "${id}" must be {class_type: string, inputs: object}`)
    }
  }
  return graph
}

function imagesOf(input: Readonly<Record<string, unknown>>, payload: Readonly<Record<string, unknown>>) {
  const images = input.images ?? payload.images
  if (images === undefined) return []
  if (!Array.isArray(images)) throw invalid('images', 'images must be a list of {name, image}')
  return images.map((item, i) => {
    if (!isObject(item) || typeof item.name !== 'string' || typeof item.image !== 'string') {
      throw invalid(`images[${i}]`, 'each image must be {name: string, image: base64 string}')
    }
    return { name: item.name, image: item.image }
  })
}

function invalid(field: string, message: string) {
  return errors.REQUEST_INVALID_PARAM(message, { field: `input.${field}` })
}

export async function comfyPassthrough(
  deps: Pick<ApiDeps, 'comfy' | 'storage' | 'config'>,
  input: Readonly<Record<string, unknown>>,
  payload: Readonly<Record<string, unknown>>,
): Promise<WorkerOutput> {
  if (deps.comfy === undefined) {
    throw errors.FEATURE_UNAVAILABLE(
      'ComfyUI passthrough is not available: this server has no ComfyUI backend (start it with --comfyui URL)',
      { field: 'input.comfy' },
    )
  }
  const began = performance.now()
  const result = await deps.comfy.run(graphOf(payload), imagesOf(input, payload))
  const now = new Date()
  const id = `comfy-${randomUUID()}`
  const keys: string[] = []
  for (const [index, image] of result.images.entries()) {
    const ext = /\.(png|jpe?g|webp)$/i.exec(image.filename)?.[1]?.toLowerCase() ?? 'png'
    const key = assetKey(id, index, ext === 'jpeg' ? 'jpg' : ext, now)
    await deps.storage.put(key, image.bytes, { contentType: contentTypeForKey(key) })
    keys.push(key)
  }
  const ttl = deps.config.storage.urlTtlSeconds
  const urls = await Promise.all(keys.map((key) => deps.storage.url(key, ttl)))
  return {
    status: 'ok',
    prompt_id: result.promptId,
    count: keys.length,
    uploaded: keys.length > 0,
    presigned_urls: urls,
    s3_bucket: deps.storage.bucket,
    s3_keys: keys,
    results: urls.map((url) => ({ url })),
    meta: { device: result.device, time_sec: Math.round(performance.now() - began) / 1000 },
  }
}
