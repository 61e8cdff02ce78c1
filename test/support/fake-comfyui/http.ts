// ComfyUI 0.3.64's HTTP routes (server.py), each also under /api/…, answering with the same statuses, content
// types and bodies: JSON with `application/json; charset=utf-8`, empty 200s without a content type, aiohttp's
// plain-text 404/405/500 pages.

import { randomUUID } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { objectInfo } from './catalogue.js'
import { upload, view } from './files.js'
import { HttpError, has, INTERNAL, isObject, json, MAX_BODY, readBody, readJson, send } from './http-util.js'
import type { Folders } from './images.js'
import type { ComfyProcess } from './process.js'
import { pyFloat, pyInt, pyStr } from './python.js'
import { type Graph, ServerCrash, validatePrompt } from './validate.js'

export interface Records {
  prompts: Array<{ promptId: string; clientId?: string; graph: Record<string, unknown>; accepted: boolean }>
  interrupts: number
  deletes: string[]
}

export interface HttpContext {
  process(): ComfyProcess
  folders: Folders
  records: Records
  previews(): boolean
  port(): number
}

function systemStats(ctx: HttpContext): unknown {
  const argv = ['main.py', '--listen', '127.0.0.1', '--port', String(ctx.port()), '--disable-auto-launch']
  if (ctx.previews()) argv.push('--preview-method', 'latent2rgb')
  return {
    system: {
      os: 'posix',
      ram_total: 135129063424,
      ram_free: 133738328064,
      comfyui_version: '0.3.64',
      required_frontend_version: '1.27.10',
      installed_templates_version: null,
      required_templates_version: '0.1.95',
      python_version: '3.12.3 (main, Aug 31 2026, 10:18:26) [GCC 13.3.0]',
      pytorch_version: '2.11.0+cu130',
      embedded_python: false,
      argv,
    },
    devices: [
      {
        name: 'cuda:0 NVIDIA H200 : cudaMallocAsync',
        type: 'cuda',
        index: 0,
        vram_total: 150109880320,
        vram_free: 149557477376,
        torch_vram_total: 0,
        torch_vram_free: 0,
      },
    ],
  }
}

async function postPrompt(ctx: HttpContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const proc = ctx.process()
  const data = await readJson(req)
  let number: number
  if (has(data, 'number')) {
    number = pyFloat((data as Record<string, unknown>).number)
  } else {
    number = proc.number
    if (has(data, 'front') && (data as Record<string, unknown>).front) number = -number
    proc.number += 1
  }
  if (!isObject(data) || !has(data, 'prompt')) {
    const error = {
      type: 'no_prompt',
      message: 'No prompt provided',
      details: 'No prompt provided',
      extra_info: {},
    }
    return json(res, { error, node_errors: {} }, 400)
  }
  const prompt = data.prompt
  const promptId = has(data, 'prompt_id') ? pyStr(data.prompt_id) : randomUUID()
  const posted = structuredClone(prompt) as Record<string, unknown>
  let valid: ReturnType<typeof validatePrompt>
  try {
    valid = validatePrompt(
      prompt,
      { catalogue: proc.catalogue(), inputExists: (n) => has(ctx.folders.inputFiles(), n) },
      data.partial_execution_targets,
    )
  } catch (ex) {
    if (ex instanceof ServerCrash) throw INTERNAL()
    throw ex
  }
  const extraData: Record<string, unknown> = isObject(data.extra_data) ? { ...data.extra_data } : {}
  if (has(data, 'client_id')) extraData.client_id = data.client_id
  const clientId = typeof data.client_id === 'string' ? data.client_id : undefined
  ctx.records.prompts.push({ promptId, clientId, graph: posted, accepted: valid.ok })
  if (!valid.ok) return json(res, { error: valid.error, node_errors: valid.nodeErrors }, 400)
  proc.put([number, promptId, prompt as Graph, extraData, valid.outputs])
  json(res, { prompt_id: promptId, number, node_errors: valid.nodeErrors })
}

const MODEL_FOLDERS = ['checkpoints', 'diffusion_models', 'text_encoders', 'vae'] as const

type Handler = (
  ctx: HttpContext,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  param: string,
) => Promise<void> | void

const routes: Array<[string, RegExp, Handler]> = [
  ['GET', /^\/system_stats$/, (ctx, _req, res) => json(res, systemStats(ctx))],
  ['GET', /^\/prompt$/, (ctx, _req, res) => json(res, ctx.process().queueInfo())],
  ['POST', /^\/prompt$/, (ctx, req, res) => postPrompt(ctx, req, res)],
  [
    'GET',
    /^\/object_info$/,
    (ctx, _req, res) => {
      const catalogue = ctx.process().catalogue()
      json(
        res,
        Object.fromEntries(Object.entries(catalogue).map(([name, node]) => [name, objectInfo(name, node)])),
      )
    },
  ],
  [
    'GET',
    /^\/object_info\/([^/]+)$/,
    (ctx, _req, res, _url, name) => {
      const catalogue = ctx.process().catalogue()
      json(res, Object.hasOwn(catalogue, name) ? { [name]: objectInfo(name, catalogue[name]) } : {})
    },
  ],
  [
    'GET',
    /^\/history$/,
    (ctx, _req, res, url) => {
      const max = url.searchParams.get('max_items')
      const offset = url.searchParams.get('offset')
      try {
        json(
          res,
          ctx.process().getHistory({
            maxItems: max === null ? undefined : pyInt(max),
            offset: offset === null ? undefined : pyInt(offset),
          }),
        )
      } catch {
        throw INTERNAL()
      }
    },
  ],
  [
    'GET',
    /^\/history\/([^/]+)$/,
    (ctx, _req, res, _url, id) => json(res, ctx.process().getHistory({ promptId: id })),
  ],
  [
    'POST',
    /^\/history$/,
    async (ctx, req, res) => {
      const data = await readJson(req)
      const proc = ctx.process()
      if (has(data, 'clear') && (data as Record<string, unknown>).clear) proc.wipeHistory()
      if (has(data, 'delete')) for (const id of listOf(data, 'delete')) proc.deleteHistoryItem(pyStr(id))
      send(res, 200)
    },
  ],
  [
    'GET',
    /^\/queue$/,
    (ctx, _req, res) => {
      const { running, pending } = ctx.process().currentQueue()
      json(res, { queue_running: running, queue_pending: pending })
    },
  ],
  [
    'POST',
    /^\/queue$/,
    async (ctx, req, res) => {
      const data = await readJson(req)
      const proc = ctx.process()
      if (has(data, 'clear') && (data as Record<string, unknown>).clear) proc.wipeQueue()
      if (has(data, 'delete')) {
        for (const id of listOf(data, 'delete')) {
          ctx.records.deletes.push(pyStr(id))
          proc.deleteQueueItem(pyStr(id))
        }
      }
      send(res, 200)
    },
  ],
  [
    'POST',
    /^\/interrupt$/,
    async (ctx, req, res) => {
      const body = (await readBody(req)).toString('utf8')
      let data: unknown = {}
      try {
        data = JSON.parse(body)
      } catch {
        // server.py: a body that is not JSON means a global interrupt
      }
      const promptId = isObject(data) ? data.prompt_id : undefined
      ctx.records.interrupts += 1
      ctx.process().interrupt(promptId ? pyStr(promptId) : undefined)
      send(res, 200)
    },
  ],
  [
    'POST',
    /^\/free$/,
    async (ctx, req, res) => {
      const data = await readJson(req)
      if (!isObject(data)) throw INTERNAL()
      if (data.unload_models) ctx.process().setFlag('unload_models', data.unload_models)
      if (data.free_memory) ctx.process().setFlag('free_memory', data.free_memory)
      send(res, 200)
    },
  ],
  ['GET', /^\/view$/, (ctx, _req, res, url) => view(ctx.folders, url, res)],
  ['POST', /^\/upload\/image$/, (ctx, req, res) => upload(ctx.folders, req, res)],
  [
    'GET',
    /^\/features$/,
    (_ctx, _req, res) => json(res, { supports_preview_metadata: true, max_upload_size: MAX_BODY }),
  ],
  ['GET', /^\/embeddings$/, (_ctx, _req, res) => json(res, [])],
  ['GET', /^\/extensions$/, (_ctx, _req, res) => json(res, [])],
  ['GET', /^\/models$/, (_ctx, _req, res) => json(res, [...MODEL_FOLDERS])],
  [
    'GET',
    /^\/models\/([^/]+)$/,
    (ctx, _req, res, _url, folder) => {
      const catalogue = ctx.process().catalogue()
      const lists: Record<string, unknown> = {
        checkpoints: catalogue.CheckpointLoaderSimple.required.ckpt_name[0],
        diffusion_models: catalogue.UNETLoader.required.unet_name[0],
        text_encoders: catalogue.CLIPLoader.required.clip_name[0],
        vae: (catalogue.VAELoader.required.vae_name[0] as string[]).filter((v) => v !== 'pixel_space'),
      }
      if (!Object.hasOwn(lists, folder)) return send(res, 404)
      json(res, lists[folder])
    },
  ],
]

function listOf(data: unknown, key: string): unknown[] {
  const value = (data as Record<string, unknown>)[key]
  if (!Array.isArray(value)) throw INTERNAL()
  return value
}

export async function handle(ctx: HttpContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    const route = url.pathname.startsWith('/api/') ? url.pathname.slice(4) : url.pathname
    let pathMatched = false
    for (const [method, pattern, handler] of routes) {
      const m = pattern.exec(route)
      if (!m) continue
      pathMatched = true
      if (method !== req.method && !(method === 'GET' && req.method === 'HEAD')) continue
      await handler(ctx, req, res, url, m[1] === undefined ? '' : decodeURIComponent(m[1]))
      return
    }
    if (pathMatched) send(res, 405, '405: Method Not Allowed', 'text/plain; charset=utf-8')
    else send(res, 404, '404: Not Found', 'text/plain; charset=utf-8')
  } catch (ex) {
    if (res.headersSent) return void res.destroy()
    const err = ex instanceof HttpError ? ex : INTERNAL()
    if (!(ex instanceof HttpError)) console.error('fake ComfyUI: handler failed', ex)
    send(res, err.status, err.text, 'text/plain; charset=utf-8')
  }
}
