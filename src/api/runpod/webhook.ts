/**
 * RunPod's `webhook`: when a job ends, its final status body is POSTed to the URL the caller gave. An attempt
 * that fails (an error status, no answer within the timeout, a refused connection) is retried after a delay,
 * a bounded number of times, as RunPod does. This file makes one attempt; `job-watch.ts` schedules them from
 * the database, so retries survive a restart.
 * @module
 */
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { errors } from '../../core/errors.js'
import type { WebhookTargets } from './webhook-targets.js'

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

/**
 * Only http(s) URLs to hosts the targets allow are called; anything else is a 400 at submission, naming
 * `webhook`.
 */
export function checkWebhookUrl(value: string, targets: WebhookTargets): URL {
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
  const refused = targets.refusal(url)
  if (refused !== undefined) {
    throw errors.REQUEST_INVALID_PARAM(
      `webhook must reach a public address: ${refused} (an operator may allow it with --webhook-allow)`,
      { field: 'webhook' },
    )
  }
  return url
}

/**
 * POSTs the body as JSON once; an answer outside 2xx (a redirect included: it is never followed), a timeout, a
 * connection error or a target the policy refuses is a failure. Node's http client rather than fetch, so the
 * connection goes to the address the policy checked.
 */
export async function postWebhook(
  url: URL,
  body: unknown,
  timeoutMs: number,
  targets: WebhookTargets,
): Promise<AttemptResult> {
  const refused = targets.refusal(url)
  if (refused !== undefined) return { ok: false, error: `refused: ${refused}` }
  const payload = Buffer.from(JSON.stringify(body))
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest
  return new Promise<AttemptResult>((resolve) => {
    const request = send(
      url,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': String(payload.length) },
        lookup: targets.lookup(),
        signal: AbortSignal.timeout(timeoutMs),
      },
      (response) => {
        const status = response.statusCode ?? 0
        response.resume()
        response.on('end', () =>
          resolve(status >= 200 && status < 300 ? { ok: true } : { ok: false, error: `HTTP ${status}` }),
        )
        response.on('error', (error) => resolve({ ok: false, error: error.message }))
      },
    )
    request.on('error', (error) => resolve({ ok: false, error: error.message }))
    request.end(payload)
  })
}
