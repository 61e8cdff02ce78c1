import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { isPigmentError } from '../../core/errors.js'
import { checkWebhookUrl, maxAttempts, postWebhook } from './webhook.js'
import { WebhookTargets } from './webhook-targets.js'

/** The receivers here listen on loopback, which webhooks may reach only when allowed. */
const LOCAL = new WebhookTargets({ allow: ['127.0.0.1'] })

// Long enough for a cold first request on a busy machine; only the 'hang' case waits it out.
const TIMEOUT_MS = 1500
let server: Server | undefined
afterEach(async () => {
  server?.closeAllConnections()
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined))
  server = undefined
})

/** A receiver that answers each call with the next behaviour: a status, or 'hang' (never answers). */
async function receiver(behaviours: (number | 'hang')[]) {
  const bodies: unknown[] = []
  server = createServer(async (request: IncomingMessage, response) => {
    let text = ''
    for await (const chunk of request) text += chunk
    bodies.push(JSON.parse(text))
    const next = behaviours.shift() ?? 200
    if (next === 'hang') return
    response.writeHead(next).end()
  })
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return { url: new URL(`http://127.0.0.1:${port}/hook`), bodies }
}

describe('postWebhook', () => {
  it('POSTs the body as JSON once; a 2xx answer is a delivery', async () => {
    const { url, bodies } = await receiver([204])
    expect(await postWebhook(url, { id: 'j1', status: 'COMPLETED' }, TIMEOUT_MS, LOCAL)).toEqual({ ok: true })
    expect(bodies).toEqual([{ id: 'j1', status: 'COMPLETED' }])
  })

  it('an error status, a receiver that does not answer in time and a refused connection are failures', async () => {
    const { url } = await receiver([503, 'hang'])
    expect(await postWebhook(url, { id: 'j2' }, TIMEOUT_MS, LOCAL)).toEqual({ ok: false, error: 'HTTP 503' })
    expect(await postWebhook(url, { id: 'j2' }, TIMEOUT_MS, LOCAL)).toMatchObject({
      ok: false,
      error: expect.any(String),
    })
    server?.closeAllConnections()
    await new Promise((resolve) => server?.close(resolve))
    server = undefined
    expect(await postWebhook(url, { id: 'j2' }, TIMEOUT_MS, LOCAL)).toMatchObject({
      ok: false,
      error: expect.any(String),
    })
  })

  it('the most attempts are the first and its retries', () => {
    expect(maxAttempts({ timeoutMs: 1, retries: 2, retryDelayMs: 1 })).toBe(3)
  })
})

describe('checkWebhookUrl', () => {
  it('accepts http and https, refuses other schemes and non-URLs naming webhook', () => {
    expect(checkWebhookUrl('https://example.test/hook', new WebhookTargets()).hostname).toBe('example.test')
    for (const bad of ['file:///etc/passwd', 'not a url', 'ftp://x/y']) {
      try {
        checkWebhookUrl(bad, new WebhookTargets())
        expect.unreachable()
      } catch (error) {
        expect(isPigmentError(error, 'REQUEST_INVALID_PARAM') && error.field).toBe('webhook')
      }
    }
  })
})
