import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { isPigmentError } from '../../core/errors.js'
import { checkWebhookUrl, postWebhook } from './webhook.js'
import { WebhookTargets } from './webhook-targets.js'

const servers: Server[] = []
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  }
})

/** A local receiver counting calls; answers `status` (with `location` for redirects). */
async function receiver(status = 204, location?: string) {
  const calls: string[] = []
  const server = createServer((request, response) => {
    calls.push(request.url ?? '')
    response.writeHead(status, location === undefined ? {} : { location }).end()
  })
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return { port, calls }
}

function refusal(url: string, targets = new WebhookTargets()): string {
  try {
    checkWebhookUrl(url, targets)
  } catch (error) {
    if (isPigmentError(error) && error.field === 'webhook') return error.message
    throw error
  }
  return 'accepted'
}

describe('webhook targets at submission', () => {
  it.each([
    'http://169.254.169.254/latest/meta-data/',
    'http://10.0.0.1/',
    'http://192.168.1.10/hook',
    'http://172.16.0.5/',
    'http://100.64.0.1/',
    'http://127.0.0.1:8080/',
    'http://localhost/',
    'http://api.localhost/',
    'http://[::1]/',
    'http://[::ffff:169.254.169.254]/',
    'http://[::ffff:7f00:1]/',
    'http://[fd00::1]/',
    'http://[fe80::1]/',
    'http://0.0.0.0/',
    'http://[::]/',
    'http://224.0.0.1/',
    'http://2130706433/',
    'http://017700000001/',
    'http://0x7f000001/',
    'http://0x7f.1/',
    'http://metadata.google.internal/computeMetadata/v1/',
  ])('refuses %s', (url) => {
    expect(refusal(url)).toMatch(/webhook/)
  })

  it('accepts public addresses and names', () => {
    expect(refusal('https://example.com/hook')).toBe('accepted')
    expect(refusal('http://93.184.216.34/x')).toBe('accepted')
    expect(refusal('http://[2606:4700::1111]/x')).toBe('accepted')
  })

  it('accepts internal targets the operator allowed: ranges, addresses and host names', () => {
    const targets = new WebhookTargets({ allow: ['10.0.0.0/8,hooks.internal', '::1', '127.0.0.1'] })
    expect(refusal('http://10.1.2.3/', targets)).toBe('accepted')
    expect(refusal('http://hooks.internal/x', targets)).toBe('accepted')
    expect(refusal('http://[::1]/x', targets)).toBe('accepted')
    expect(refusal('http://127.0.0.1:9/x', targets)).toBe('accepted')
    expect(refusal('http://192.168.0.1/', targets)).toMatch(/webhook/)
  })

  it('refuses an allow-list entry that is neither a range, an address nor a host name', () => {
    expect(() => new WebhookTargets({ allow: ['10.0.0.0/99'] })).toThrow(/not a valid address range/)
  })
})

describe('webhook targets at delivery', () => {
  it('does not connect when a public-looking name resolves to an internal address', async () => {
    const { port, calls } = await receiver()
    const targets = new WebhookTargets({ resolve: async () => [{ address: '127.0.0.1', family: 4 }] })
    const url = new URL(`http://hooks.example.com:${port}/hook`)
    const result = await postWebhook(url, { id: 'j' }, 2000, targets)
    expect(result).toMatchObject({ ok: false, error: expect.stringMatching(/internal address 127\.0\.0\.1/) })
    expect(calls).toEqual([])
  })

  it('refuses when any of the resolved addresses is internal', async () => {
    const { port, calls } = await receiver()
    const targets = new WebhookTargets({
      resolve: async () => [
        { address: '93.184.216.34', family: 4 },
        { address: '10.0.0.7', family: 4 },
      ],
    })
    const result = await postWebhook(new URL(`http://hooks.example.com:${port}/`), {}, 2000, targets)
    expect(result.ok).toBe(false)
    expect(calls).toEqual([])
  })

  it('connects to the checked address when the operator allowed it', async () => {
    const { port, calls } = await receiver()
    const targets = new WebhookTargets({
      allow: ['127.0.0.0/8'],
      resolve: async () => [{ address: '127.0.0.1', family: 4 }],
    })
    const result = await postWebhook(new URL(`http://hooks.example.com:${port}/hook`), {}, 2000, targets)
    expect(result).toEqual({ ok: true })
    expect(calls).toEqual(['/hook'])
  })

  it('never follows a redirect', async () => {
    const inner = await receiver()
    const outer = await receiver(302, `http://127.0.0.1:${inner.port}/inner`)
    const targets = new WebhookTargets({ allow: ['127.0.0.1'] })
    const result = await postWebhook(new URL(`http://127.0.0.1:${outer.port}/`), {}, 2000, targets)
    expect(result).toEqual({ ok: false, error: 'HTTP 302' })
    expect(outer.calls).toHaveLength(1)
    expect(inner.calls).toEqual([])
  })

  it('checks a literal address again at delivery (a row stored before the allow-list changed)', async () => {
    const { port, calls } = await receiver()
    const result = await postWebhook(new URL(`http://127.0.0.1:${port}/`), {}, 2000, new WebhookTargets())
    expect(result).toMatchObject({ ok: false })
    expect(calls).toEqual([])
  })
})
