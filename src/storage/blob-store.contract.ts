/**
 * The behaviour every BlobStore must show, run against local disk and a real S3-protocol server
 * (`describeBlobStoreContract('s3', makeStore)`). Links are fetched over real HTTP on loopback.
 * @module
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { isPigmentError } from '../core/errors.js'
import { assetKey } from './blob-key.js'
import type { BlobStore } from './blob-store.js'

export interface StoreFixture {
  readonly store: BlobStore
  /** The same store, but signing links as if the time were `clockMs`. */
  storeAt(clockMs: number): BlobStore
  close(): Promise<void>
}

export type MakeStore = () => Promise<StoreFixture>

const BAD_KEYS = [
  '',
  '../escape.png',
  'a/../../b.png',
  '/etc/passwd',
  'a//b.png',
  'a/./b.png',
  'a b.png',
  'a\\b.png',
  'ü.png',
  'a/..',
]

/** Flips the last character of every long hex query value: the signature, whatever the store calls it. */
function tamper(url: string): string {
  const parsed = new URL(url)
  for (const [name, value] of parsed.searchParams) {
    if (/^[0-9a-f]{32,}$/.test(value)) {
      parsed.searchParams.set(name, value.slice(0, -1) + (value.endsWith('0') ? '1' : '0'))
    }
  }
  return parsed.toString()
}

async function code(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => 'resolved',
    (e: unknown) => (isPigmentError(e) ? e.code : e),
  )
}

export function describeBlobStoreContract(name: string, makeStore: MakeStore): void {
  describe(`BlobStore contract: ${name}`, () => {
    let fixture: StoreFixture
    let store: BlobStore
    const bytes = new Uint8Array(Array.from({ length: 1024 }, (_, i) => (i * 7) % 256))
    const key = assetKey('01jobid', 0, 'png', new Date(Date.UTC(2026, 4, 6, 7, 8, 9)))

    beforeEach(async () => {
      fixture = await makeStore()
      store = fixture.store
    })
    afterEach(async () => {
      await fixture.close()
    })

    it('gives back exactly the bytes put, and the newest bytes after an overwrite', async () => {
      await store.put(key, bytes, { contentType: 'image/png' })
      expect(await store.get(key)).toEqual(bytes)
      const newer = new Uint8Array([1, 2, 3])
      await store.put(key, newer, { contentType: 'image/png' })
      expect(await store.get(key)).toEqual(newer)
    })

    it('answers null for a missing key and deletes idempotently', async () => {
      expect(await store.get('outputs/missing.png')).toBeNull()
      await store.put(key, bytes, { contentType: 'image/png' })
      await store.delete(key)
      await store.delete(key)
      expect(await store.get(key)).toBeNull()
    })

    it('rejects keys that could escape or are not plain paths with STORAGE_BAD_KEY', async () => {
      for (const bad of BAD_KEYS) {
        expect(await code(store.put(bad, bytes, { contentType: 'image/png' })), bad).toBe('STORAGE_BAD_KEY')
        expect(await code(store.get(bad)), bad).toBe('STORAGE_BAD_KEY')
        expect(await code(store.url(bad, 60)), bad).toBe('STORAGE_BAD_KEY')
        expect(await code(store.delete(bad)), bad).toBe('STORAGE_BAD_KEY')
      }
    })

    it('serves the bytes through its link', async () => {
      await store.put(key, bytes, { contentType: 'image/png' })
      const response = await fetch(await store.url(key, 60))
      expect(response.status).toBe(200)
      expect(new Uint8Array(await response.arrayBuffer())).toEqual(bytes)
      expect(response.headers.get('content-type')).toBe('image/png')
    })

    it('refuses a link past its expiry and a link with a tampered signature', async () => {
      await store.put(key, bytes, { contentType: 'image/png' })
      const stale = await fixture.storeAt(Date.now() - 3600_000).url(key, 60)
      const expired = await fetch(stale)
      await expired.arrayBuffer()
      expect(expired.ok).toBe(false)
      const tampered = await fetch(tamper(await store.url(key, 60)))
      await tampered.arrayBuffer()
      expect(tampered.ok).toBe(false)
      expect([401, 403]).toContain(tampered.status)
    })
  })
}
