import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { contentTypeForKey } from './blob-key.js'
import { describeBlobStoreContract } from './blob-store.contract.js'
import { LocalStore } from './local-store.js'

const SECRET = 'test-secret-0123456789abcdef0123456789abcdef'

/** The smallest stand-in for Pigment's `/files/*` route: verify the link, then stream the file. */
function serveFiles(store: () => LocalStore): Server {
  return createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost')
    const key = url.pathname.replace(/^\/files\//, '')
    const check = store().verify(
      key,
      url.searchParams.get('expires') ?? undefined,
      url.searchParams.get('sig') ?? undefined,
    )
    if (check !== 'ok') {
      response.writeHead(check === 'expired' ? 410 : 403).end()
      return
    }
    store()
      .get(key)
      .then((bytes) => {
        if (bytes === null) response.writeHead(404).end()
        else response.writeHead(200, { 'content-type': contentTypeForKey(key) }).end(bytes)
      })
      .catch(() => response.writeHead(500).end())
  })
}

describeBlobStoreContract('local disk', async () => {
  const root = mkdtempSync(join(tmpdir(), 'pigment-local-'))
  let base = ''
  const make = (clock?: () => number) =>
    new LocalStore({ root, secret: SECRET, publicBaseUrl: () => base, ...(clock ? { clock } : {}) })
  const store = make()
  const server = serveFiles(() => store)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    store,
    storeAt: (clockMs) => make(() => clockMs),
    async close() {
      await new Promise((resolve) => server.close(resolve))
      rmSync(root, { recursive: true, force: true })
    },
  }
})

describe('LocalStore', () => {
  it('writes through a temporary file and leaves no temporary files behind', async () => {
    const root = mkdtempSync(join(tmpdir(), 'pigment-local-'))
    try {
      const store = new LocalStore({ root, secret: SECRET, publicBaseUrl: 'http://x' })
      await store.put('outputs/a/b.png', new Uint8Array(10), { contentType: 'image/png' })
      expect(readdirSync(join(root, 'outputs/a'))).toEqual(['b.png'])
      expect(statSync(store.pathFor('outputs/a/b.png')).size).toBe(10)
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
  })

  it('signs links under the public base URL with an expiry in epoch seconds', async () => {
    const store = new LocalStore({
      root: tmpdir(),
      secret: SECRET,
      publicBaseUrl: 'https://img.example.com/',
      clock: () => 1_700_000_000_500,
    })
    const url = new URL(await store.url('outputs/x.png', 90))
    expect(`${url.origin}${url.pathname}`).toBe('https://img.example.com/files/outputs/x.png')
    expect(url.searchParams.get('expires')).toBe('1700000090')
    const sig = url.searchParams.get('sig') ?? undefined
    expect(store.verify('outputs/x.png', '1700000090', sig, new Date(1_700_000_089_000))).toBe('ok')
    expect(store.verify('outputs/x.png', '1700000090', sig, new Date(1_700_000_090_000))).toBe('expired')
    expect(store.verify('outputs/y.png', '1700000090', sig, new Date(1_700_000_000_000))).toBe('invalid')
    expect(store.verify('outputs/x.png', '1700000099', sig, new Date(1_700_000_000_000))).toBe('invalid')
  })
})
