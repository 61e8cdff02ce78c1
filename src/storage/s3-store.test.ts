import { mkdtempSync, rmSync } from 'node:fs'
import type { Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import S3rver from 's3rver'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { describeBlobStoreContract } from './blob-store.contract.js'
import { S3Store, type S3StoreConfig } from './s3-store.js'
import { portOf, startSigV4Proxy } from './sigv4-verifying-proxy.js'

const BUCKET = 'pigment-test'
let server: S3rver
let proxy: Server
let directory: string
let endpoint: string

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'pigment-s3rver-'))
  server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: BUCKET }],
  })
  const address = await server.run()
  // s3rver checks a presigned link's expiry but not its signature; the proxy checks the signature
  proxy = await startSigV4Proxy(address.port, 'S3RVER')
  endpoint = `http://127.0.0.1:${portOf(proxy)}`
})

afterAll(async () => {
  await new Promise((resolve) => proxy.close(resolve))
  await server.close()
  rmSync(directory, { recursive: true, force: true })
})

function config(overrides: Partial<S3StoreConfig> = {}): S3StoreConfig {
  return {
    bucket: BUCKET,
    prefix: 'run-1/',
    region: 'us-east-1',
    endpoint,
    forcePathStyle: true,
    // s3rver's fixed development credentials
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    ...overrides,
  }
}

describeBlobStoreContract('s3 (s3rver on loopback)', async () => {
  const made: S3Store[] = []
  const make = (clock?: () => number) => {
    const store = new S3Store(config(clock ? { clock } : {}))
    made.push(store)
    return store
  }
  return {
    store: make(),
    storeAt: (clockMs) => make(() => clockMs),
    async close() {
      for (const store of made) store.destroy()
    },
  }
})

describe('S3Store', () => {
  it('keeps objects under its prefix, apart from another prefix in the same bucket', async () => {
    const a = new S3Store(config({ prefix: 'tenant-a' }))
    const b = new S3Store(config({ prefix: 'tenant-b/' }))
    await a.put('outputs/x.png', new Uint8Array([9]), { contentType: 'image/png' })
    expect(await a.get('outputs/x.png')).toEqual(new Uint8Array([9]))
    expect(await b.get('outputs/x.png')).toBeNull()
    expect(new URL(await a.url('outputs/x.png', 60)).pathname).toBe(`/${BUCKET}/tenant-a/outputs/x.png`)
    expect(a.bucket).toBe(BUCKET)
    a.destroy()
    b.destroy()
  })

  it('reports an unreachable service as STORAGE_FAILED', async () => {
    const dead = new S3Store(config({ endpoint: 'http://127.0.0.1:1' }))
    await expect(dead.put('k.png', new Uint8Array([1]), { contentType: 'image/png' })).rejects.toMatchObject({
      code: 'STORAGE_FAILED',
    })
    dead.destroy()
  })
})
