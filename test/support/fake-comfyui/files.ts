// /view and /upload/image: ComfyUI's input/output/temp folders over HTTP, with its path checks (400 for a file
// name with "..", 403 for a subfolder outside its folder, 404 for no such file), previews re-encoded as
// webp/jpeg, the rgb and alpha channels, and uploads renamed "name (1).png" unless overwrite is set.

import { createHash } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import path from 'node:path'
import sharp from 'sharp'
import { INTERNAL, json, readBody, send } from './http-util.js'
import type { Folders, FolderType } from './images.js'

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

export async function view(folders: Folders, url: URL, res: ServerResponse): Promise<void> {
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
  const file = folders.get(type as FolderType, subfolder, filename)
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

export async function upload(folders: Folders, req: IncomingMessage, res: ServerResponse): Promise<void> {
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
      const existing = folders.get(type as FolderType, inside, filename)
      if (!existing) break
      if (sha(existing) === sha(data)) {
        duplicate = true
        break
      }
      filename = `${stem} (${i})${ext}`
    }
  }
  if (!duplicate) folders.put(type as FolderType, inside, filename, data)
  json(res, { name: filename, subfolder, type })
}
