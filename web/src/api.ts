/**
 * The page's client for the native API: JSON requests with the stored key as a Bearer header (never in a
 * URL), errors as `ApiError` carrying the API's own `{error: {code, message, field?}}`.
 * @module
 */
import type { Asset, AssetList, Caller, GenerationBody, Job, ModelList, SamplerList } from './types.js'

const KEY_STORAGE = 'pigment.apiKey'

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message)
  }
}

export function storedKey(): string {
  try {
    return localStorage.getItem(KEY_STORAGE) ?? ''
  } catch {
    return ''
  }
}

export function storeKey(key: string): void {
  if (key === '') localStorage.removeItem(KEY_STORAGE)
  else localStorage.setItem(KEY_STORAGE, key)
}

export function authHeaders(): Record<string, string> {
  const key = storedKey()
  return key === '' ? {} : { authorization: `Bearer ${key}` }
}

/** Any non-2xx answer → ApiError with the API's code and message (or the status line when not JSON). */
export async function failure(response: Response): Promise<ApiError> {
  try {
    const body = (await response.json()) as { error?: { code?: string; message?: string; field?: string } }
    const error = body.error ?? {}
    return new ApiError(
      response.status,
      error.code ?? `HTTP_${response.status}`,
      error.message ?? response.statusText,
      error.field,
    )
  } catch {
    return new ApiError(response.status, `HTTP_${response.status}`, response.statusText || 'request failed')
  }
}

async function request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const response = await fetch(path, {
    method,
    headers: { ...authHeaders(), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    ...(signal === undefined ? {} : { signal }),
  })
  if (!response.ok) throw await failure(response)
  return (response.status === 204 ? undefined : await response.json()) as T
}

export const api = {
  me: () => request<Caller>('GET', '/api/me'),
  models: () => request<ModelList>('GET', '/api/models'),
  samplers: () => request<SamplerList>('GET', '/api/samplers'),
  generate: (body: GenerationBody) => request<Job>('POST', '/api/generations', { ...body, async: true }),
  job: (id: string) => request<Job>('GET', `/api/jobs/${id}`),
  cancel: (id: string) => request<Job>('POST', `/api/jobs/${id}/cancel`),
  assets: (cursor: string | null, limit = 24) =>
    request<AssetList>(
      'GET',
      `/api/assets?limit=${limit}${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`,
    ),
  asset: (id: string) => request<Asset>('GET', `/api/assets/${id}`),
  deleteAsset: (id: string) => request<undefined>('DELETE', `/api/assets/${id}`),
}

/**
 * An image through the API as a blob: URL, so the key travels in a header (an <img src> cannot send one).
 * The caller revokes it when done.
 */
export async function imageUrl(assetId: string, signal?: AbortSignal): Promise<string> {
  const response = await fetch(`/api/assets/${assetId}/file`, {
    headers: authHeaders(),
    ...(signal === undefined ? {} : { signal }),
  })
  if (!response.ok) throw await failure(response)
  return URL.createObjectURL(await response.blob())
}
