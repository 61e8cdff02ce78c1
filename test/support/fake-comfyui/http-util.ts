// The plumbing of the fake's HTTP handlers: aiohttp's answers (JSON, empty, plain-text error pages) and
// Python's way of reading a JSON body.

import type { IncomingMessage, ServerResponse } from 'node:http'

export const MAX_BODY = 100 * 1024 * 1024

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly text: string,
  ) {
    super(text)
  }
}

export const INTERNAL = () => new HttpError(500, '500 Internal Server Error\n\nServer got itself in trouble')

export function send(
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

export function json(res: ServerResponse, body: unknown, status = 200): void {
  send(res, status, JSON.stringify(body), 'application/json; charset=utf-8')
}

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > MAX_BODY) throw new HttpError(413, '413: Request Entity Too Large')
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks)
}

export async function readJson(req: IncomingMessage): Promise<unknown> {
  try {
    return JSON.parse((await readBody(req)).toString('utf8'))
  } catch (ex) {
    if (ex instanceof HttpError) throw ex
    throw INTERNAL()
  }
}

export const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v)

/** Python's `key in json_data` for any JSON value; numbers, booleans and null raise */ export function has(
  data: unknown,
  key: string,
): boolean {
  if (isObject(data)) return Object.hasOwn(data, key)
  if (Array.isArray(data)) return data.includes(key)
  if (typeof data === 'string') return data.includes(key)
  throw INTERNAL()
}
