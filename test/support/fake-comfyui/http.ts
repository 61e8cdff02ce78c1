// ComfyUI 0.3.64's HTTP routes (server.py), each also under /api/…, answering with the same statuses, content
// types and bodies: JSON with `application/json; charset=utf-8`, empty 200s without a content type, aiohttp's
// plain-text 404/405/500 pages.

import { createHash, randomUUID } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import path from 'node:path'
import sharp from 'sharp'
import { objectInfo } from './catalogue.js'
import type { Folders, FolderType } from './images.js'
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

const MAX_BODY = 100 * 1024 * 1024

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly text: string,
  ) {
    super(text)
  }
}

const INTERNAL = () => new HttpError(500, '500 Internal Server Error\n\nServer got itself in trouble')

function send(
  res: ServerResponse,
  status: number,
  body?: Buffer | string,
  type?: string,
  headers = {},
): void {
  const data = body === undefined ? Buffer.alloc(0) : Buffer.isBuffer(body) ? body : Buffer.from(body)
  res.writeHead(status, {
    ...(type ? { 'Content-Type': type } : {}),
    'Content-Length': data.length,
    ...headers,
  })
  res.end(data)
}

function json(res: ServerResponse, body: unknown, status = 200): void {
  send(res, status, JSON.stringify(body), 'application/json; charset=utf-8')
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > MAX_BODY) throw new HttpError(413, '413: Request Entity Too Large')
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks)
}

/** `await request.json()`: a body that is not JSON makes the handler raise, and aiohttp answers 500 */
async function readJson(req: IncomingMessage): Promise<unknown> {
  try {
    return JSON.parse((await readBody(req)).toString('utf8'))
  } catch (ex) {
    if (ex instanceof HttpError) throw ex
    throw INTERNAL()
  }
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v)

/** Python's `key in json_data` for any JSON value; numbers, booleans and null raise */
function has(data: unknown, key: string): boolean {
  if (isObject(data)) return Object.hasOwn(data, key)
  if (Array.isArray(data)) return data.includes(key)
  if (typeof data === 'string') return data.includes(key)
  throw INTERNAL()
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

function contentTypeOf(filename: string): string {
  const ext = path.extname(filename).toLowerCase()
  const types: Record<string, string> = {
    '.png': 'image/png',
    '.jpg': 'image/jpeg',
    '.jpeg': 'image/jpeg',
    '.webp': 'image/webp',
    '.gif': 'image/gif',
    '.json': 'application/json',
  }
  return types[ext] ?? 'application/octet-stream'
}

/** a subfolder that stays inside its folder, normalised; undefined when it would leave it */
function insideFolder(subfolder: string): string | undefined {
  const normal = path.posix.normalize(subfolder || '.')
  if (normal.startsWith('/') || normal === '..' || normal.startsWith('../')) return undefined
  return normal === '.' ? '' : normal
}

async function view(ctx: HttpContext, url: URL, res: ServerResponse): Promise<void> {
  const q = url.searchParams
  if (!q.has('filename')) return send(res, 404)
  let filename = q.get('filename') ?? ''
  let type: string | undefined
  const annotated = /^(.*) \[(input|output|temp)\]$/.exec(filename)
  if (annotated) [, filename, type] = annotated
  if (!filename) return send(res, 400)
  if (filename.startsWith('/') || filename.includes('..')) return send(res, 400)
  type ??= q.get('type') ?? 'output'
  if (!['input', 'output', 'temp'].includes(type)) return send(res, 400)
  let subfolder = ''
  if (q.has('subfolder')) {
    const inside = insideFolder(q.get('subfolder') ?? '')
    if (inside === undefined) return send(res, 403)
    subfolder = inside
  }
  filename = path.posix.basename(filename)
  const file = ctx.folders.get(type as FolderType, subfolder, filename)
  if (!file) return send(res, 404)
  const disposition = { 'Content-Disposition': `filename="${filename}"` }
  const channel = q.get('channel') ?? 'rgba'
  const preview = q.get('preview')
  if (preview !== null) {
    const parts = preview.split(';')
    let format = parts[0]
    if (!['webp', 'jpeg'].includes(format) || channel.includes('a')) format = 'webp'
    const last = parts[parts.length - 1]
    const quality = /^\d+$/.test(last) ? Math.min(100, Math.max(1, Number(last))) : 90
    let image = sharp(file)
    if (format === 'jpeg' || channel === 'rgb') image = image.removeAlpha()
    const body = await (format === 'jpeg' ? image.jpeg({ quality }) : image.webp({ quality })).toBuffer()
    return send(res, 200, body, `image/${format}`, disposition)
  }
  if (channel === 'rgb') {
    return send(res, 200, await sharp(file).removeAlpha().png().toBuffer(), 'image/png', disposition)
  }
  if (channel === 'a') {
    const { data, info } = await sharp(file)
      .ensureAlpha()
      .extractChannel(3)
      .raw()
      .toBuffer({ resolveWithObject: true })
    const alpha = await sharp({
      create: { width: info.width, height: info.height, channels: 3, background: '#000' },
    })
      .joinChannel(data, { raw: { width: info.width, height: info.height, channels: 1 } })
      .png()
      .toBuffer()
    return send(res, 200, alpha, 'image/png', disposition)
  }
  send(res, 200, file, contentTypeOf(filename), disposition)
}

async function upload(ctx: HttpContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readBody(req)
  let form: FormData
  try {
    form = await new Request('http://fake/upload', {
      method: 'POST',
      headers: { 'content-type': req.headers['content-type'] ?? '' },
      body,
    }).formData()
  } catch {
    throw INTERNAL()
  }
  const image = form.get('image')
  if (!(image instanceof Blob)) return send(res, 400)
  const name = (image as File).name
  if (!name) return send(res, 400)
  const requested = form.get('type')
  const type = typeof requested === 'string' && requested ? requested : 'input'
  if (!['input', 'output', 'temp'].includes(type)) throw INTERNAL()
  const subfolderField = form.get('subfolder')
  const subfolder = typeof subfolderField === 'string' ? subfolderField : ''
  const inside = insideFolder(subfolder)
  if (inside === undefined || name.includes('/') || name === '..') return send(res, 400)
  const data = Buffer.from(await image.arrayBuffer())
  const overwrite = form.get('overwrite')
  let filename = name
  let duplicate = false
  if (overwrite !== 'true' && overwrite !== '1') {
    const ext = path.extname(name)
    const stem = name.slice(0, name.length - ext.length)
    const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex')
    for (let i = 1; ; i++) {
      const existing = ctx.folders.get(type as FolderType, inside, filename)
      if (!existing) break
      if (sha(existing) === sha(data)) {
        duplicate = true
        break
      }
      filename = `${stem} (${i})${ext}`
    }
  }
  if (!duplicate) ctx.folders.put(type as FolderType, inside, filename, data)
  json(res, { name: filename, subfolder, type })
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
  ['GET', /^\/view$/, (ctx, _req, res, url) => view(ctx, url, res)],
  ['POST', /^\/upload\/image$/, (ctx, req, res) => upload(ctx, req, res)],
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
