/**
 * RunPod's `webhook`: when a job ends, its final status body is POSTed to the URL the caller gave. A delivery
 * that fails (an error status, no answer within the timeout, a refused connection) is retried after a delay,
 * a bounded number of times, as RunPod does; the outcome is logged, never thrown.
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

export interface DeliveryReport {
  readonly delivered: boolean
  readonly attempts: number
  /** Why the last attempt failed, when none succeeded. */
  readonly lastError?: string
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

export async function deliverWebhook(
  url: URL,
  body: unknown,
  policy: WebhookPolicy = RUNPOD_WEBHOOK_POLICY,
): Promise<DeliveryReport> {
  const payload = JSON.stringify(body)
  let lastError = ''
  for (let attempt = 1; attempt <= policy.retries + 1; attempt++) {
    if (attempt > 1) await new Promise((resolve) => setTimeout(resolve, policy.retryDelayMs))
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: payload,
        signal: AbortSignal.timeout(policy.timeoutMs),
      })
      await response.body?.cancel()
      if (response.ok) return { delivered: true, attempts: attempt }
      lastError = `HTTP ${response.status}`
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error)
    }
  }
  return { delivered: false, attempts: policy.retries + 1, lastError }
}
