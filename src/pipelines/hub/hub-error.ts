/**
 * Errors from talking to a Hugging Face-style hub. Each names the URL or file at fault and says what the user
 * can do; none ever carries the token.
 * @module
 */

export type HubErrorCode =
  /** Repo or revision missing (or private and no token sent). */
  | 'HUB_NOT_FOUND'
  /** The hub wants a token (401), or the token lacks access (403, gated repos). */
  | 'HUB_UNAUTHORIZED'
  /** Could not reach the hub, or the connection broke mid-download. */
  | 'HUB_NETWORK'
  /** Any other non-success status. */
  | 'HUB_HTTP'
  /** A downloaded file does not match the size or hash the hub published. */
  | 'HUB_INTEGRITY'
  /** The hub answered something this client cannot use (bad JSON, unsafe path). */
  | 'HUB_BAD_RESPONSE'

export interface HubErrorDetails {
  readonly url?: string
  readonly status?: number
  /** Repo-relative path of the file concerned. */
  readonly file?: string
  readonly cause?: unknown
}

export class HubError extends Error {
  readonly code: HubErrorCode
  readonly url?: string
  readonly status?: number
  readonly file?: string

  constructor(code: HubErrorCode, message: string, details: HubErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause })
    this.name = 'HubError'
    this.code = code
    if (details.url !== undefined) this.url = details.url
    if (details.status !== undefined) this.status = details.status
    if (details.file !== undefined) this.file = details.file
  }
}

/**
 * Maps a failed hub response to an error. The hub explains itself in `X-Error-Code` / `X-Error-Message`;
 * note that it answers 401, not 404, for a repo that does not exist when no token is sent.
 */
export function errorForResponse(response: Response, url: string, what: string, hasToken: boolean): HubError {
  const status = response.status
  const code = response.headers.get('x-error-code') ?? ''
  const hubMessage = response.headers.get('x-error-message')
  const said = hubMessage === null ? '' : ` (hub: ${hubMessage})`
  const details = { url, status }
  if (code === 'GatedRepo') {
    return new HubError(
      'HUB_UNAUTHORIZED',
      `${what} is gated: accept its terms on the hub, then set HF_TOKEN to a token of that account; ${status} from ${url}${said}`,
      details,
    )
  }
  if (code === 'RevisionNotFound') {
    return new HubError(
      'HUB_NOT_FOUND',
      `revision not found for ${what}: ${status} from ${url}${said}`,
      details,
    )
  }
  if (code === 'EntryNotFound') {
    return new HubError('HUB_NOT_FOUND', `file not found in ${what}: ${status} from ${url}${said}`, details)
  }
  if (status === 401 || status === 403) {
    const hint = hasToken
      ? 'the token in HF_TOKEN was refused or lacks access to it'
      : 'it may be private or gated, or not exist: set HF_TOKEN to an access token'
    return new HubError('HUB_UNAUTHORIZED', `${what}: ${hint}; ${status} from ${url}${said}`, details)
  }
  if (status === 404 || code === 'RepoNotFound') {
    return new HubError(
      'HUB_NOT_FOUND',
      `${what} not found (check the repo id and revision): ${status} from ${url}${said}`,
      details,
    )
  }
  return new HubError('HUB_HTTP', `${what}: unexpected ${status} from ${url}${said}`, details)
}
