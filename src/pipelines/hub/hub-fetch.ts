/**
 * One GET against the hub or the storage it redirects to. Redirects are followed by hand so that the token
 * goes only to the hub itself, never to the CDN host a file resolves to, and so errors can name each URL.
 * @module
 */
import { HubError } from './hub-error.js'

const MAX_REDIRECTS = 10

export interface HubRequest {
  readonly url: string
  /** Origin the token may be sent to: the hub endpoint. */
  readonly endpoint: string
  readonly token?: string
  readonly headers?: Readonly<Record<string, string>>
  readonly signal?: AbortSignal
}

export interface HubResponse {
  readonly response: Response
  /** URL that produced `response`, after redirects. */
  readonly url: string
  /** Headers of the first hop: the hub's own answer (X-Linked-Size, X-Repo-Commit) before any CDN. */
  readonly firstHeaders: Headers
}

export async function hubFetch(request: HubRequest): Promise<HubResponse> {
  const hubOrigin = new URL(request.endpoint).origin
  let url = request.url
  let firstHeaders: Headers | null = null
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    const headers: Record<string, string> = { 'user-agent': 'pigment', ...request.headers }
    if (request.token && new URL(url).origin === hubOrigin) headers.authorization = `Bearer ${request.token}`
    let response: Response
    try {
      response = await fetch(url, { headers, redirect: 'manual', signal: request.signal })
    } catch (error) {
      if (request.signal?.aborted) throw error
      throw new HubError('HUB_NETWORK', `could not reach ${url}: ${describeCause(error)}`, {
        url,
        cause: error,
      })
    }
    firstHeaders ??= response.headers
    const location = response.headers.get('location')
    if (response.status < 300 || response.status >= 400 || location === null) {
      return { response, url, firstHeaders }
    }
    await response.body?.cancel()
    url = new URL(location, url).href
  }
  throw new HubError('HUB_BAD_RESPONSE', `more than ${MAX_REDIRECTS} redirects from ${request.url}`, {
    url: request.url,
  })
}

/** undici hides the useful part ("ECONNREFUSED", "other side closed") in `cause`. */
export function describeCause(error: unknown): string {
  if (!(error instanceof Error)) return String(error)
  const cause = error.cause
  if (cause instanceof Error) {
    const code = (cause as NodeJS.ErrnoException).code
    return code === undefined || cause.message.includes(code) ? cause.message : `${code} ${cause.message}`
  }
  return error.message
}
