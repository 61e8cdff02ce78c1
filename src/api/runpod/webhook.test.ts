import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { isPigmentError } from '../../core/errors.js'
import { checkWebhookUrl, deliverWebhook } from './webhook.js'

// Long enough for a cold first request on a busy machine; only the 'hang' case waits it out.
const FAST = { timeoutMs: 1500, retries: 2, retryDelayMs: 10 }
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

describe('deliverWebhook', () => {
  it('POSTs the body as JSON once when the receiver accepts it', async () => {
    const { url, bodies } = await receiver([200])
    const report = await deliverWebhook(url, { id: 'j1', status: 'COMPLETED' }, FAST)
    expect(report).toEqual({ delivered: true, attempts: 1 })
    expect(bodies).toEqual([{ id: 'j1', status: 'COMPLETED' }])
  })

  it('retries after an error status and after a receiver that does not answer in time', async () => {
    const { url, bodies } = await receiver([500, 'hang', 204])
    const report = await deliverWebhook(url, { id: 'j2' }, FAST)
    expect(report).toEqual({ delivered: true, attempts: 3 })
    expect(bodies).toHaveLength(3)
  })

  it('gives up after the retries and says why', async () => {
    const { url, bodies } = await receiver([503, 503, 503, 200])
    const report = await deliverWebhook(url, { id: 'j3' }, FAST)
    expect(report).toEqual({ delivered: false, attempts: 3, lastError: 'HTTP 503' })
    expect(bodies).toHaveLength(3)
  })
})

describe('checkWebhookUrl', () => {
  it('accepts http and https, refuses other schemes and non-URLs naming webhook', () => {
    expect(checkWebhookUrl('https://example.test/hook').hostname).toBe('example.test')
    for (const bad of ['file:///etc/passwd', 'not a url', 'ftp://x/y']) {
      try {
        checkWebhookUrl(bad)
        expect.unreachable()
      } catch (error) {
        expect(isPigmentError(error, 'REQUEST_INVALID_PARAM') && error.field).toBe('webhook')
      }
    }
  })
})
