/**
 * RunPod's `webhook`: when a job ends, its final status body is POSTed to the URL the caller gave. An attempt
 * that fails (an error status, no answer within the timeout, a refused connection) is retried after a delay,
 * a bounded number of times, as RunPod does. This file makes one attempt; `job-watch.ts` schedules them from
 * the database, so retries survive a restart.
 * @module
 */
import { errors } from '../../core/errors.js'

export interface WebhookPolicy {
  /** Each attempt is abandoned after this long. */
  readonly timeoutMs: number
  /** Further attempts after the first one fails. */
  readonly retries: number
  readonly retryDelayMs: number
}

/** RunPod retries a failed webhook twice, ten seconds apart. */
export const RUNPOD_WEBHOOK_POLICY: WebhookPolicy = Object.freeze({
  timeoutMs: 10_000,
  retries: 2,
  retryDelayMs: 10_000,
})

/** One attempt's result: delivered, or why not. */
export type AttemptResult = { readonly ok: true } | { readonly ok: false; readonly error: string }

/** The most attempts a webhook gets: the first and its retries. */
export function maxAttempts(policy: WebhookPolicy): number {
  return policy.retries + 1
}

/** Only http(s) URLs are called; anything else is a 400 at submission, naming `webhook`. */
export function checkWebhookUrl(value: string): URL {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw errors.REQUEST_INVALID_PARAM(`webhook must be an absolute http(s) URL, got "${value}"`, {
      field: 'webhook',
    })
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw errors.REQUEST_INVALID_PARAM(`webhook must use http or https, got "${url.protocol}"`, {
      field: 'webhook',
    })
  }
  return url
}

/** POSTs the body as JSON once; an answer outside 2xx, a timeout or a connection error is a failure. */
export async function postWebhook(url: URL, body: unknown, timeoutMs: number): Promise<AttemptResult> {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    })
    await response.body?.cancel()
    return response.ok ? { ok: true } : { ok: false, error: `HTTP ${response.status}` }
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) }
  }
}
