import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { assetKey, contentTypeForKey, validateKey } from './blob-key.js'
import { loadOrCreateSecret, signedQuery, verifySignedUrl } from './signed-url.js'

describe('assetKey', () => {
  it('lays keys out like the RunPod worker, by UTC time', () => {
    const date = new Date(Date.UTC(2026, 0, 2, 3, 4, 5))
    expect(assetKey('01abc', 1, 'webp', date)).toBe('outputs/2026/01/02/030405/01abc_1.webp')
    // a job's later runs never share a key with its earlier ones, even within the same second
    expect(assetKey('01abc', 1, 'webp', date, 1)).toBe('outputs/2026/01/02/030405/01abc_1.webp')
    expect(assetKey('01abc', 1, 'webp', date, 2)).toBe('outputs/2026/01/02/030405/01abc_1_r2.webp')
  })

  it('refuses job ids that would make a bad key', () => {
    expect(() => assetKey('../x', 0, 'png', new Date())).toThrow(/storage key/)
  })
})

describe('validateKey and contentTypeForKey', () => {
  it('accepts nested relative keys and names content types by extension', () => {
    expect(validateKey('a/b-c_d.e/f.png')).toBe('a/b-c_d.e/f.png')
    expect(contentTypeForKey('x/y.JPG')).toBe('image/jpeg')
    expect(contentTypeForKey('x/y')).toBe('application/octet-stream')
  })
})

describe('signed links', () => {
  const secret = 's'.repeat(40)

  it('verifies its own signature and refuses malformed parts', () => {
    const query = new URLSearchParams(signedQuery(secret, 'k.png', 2_000_000_000))
    const sig = query.get('sig') ?? ''
    expect(verifySignedUrl(secret, 'k.png', '2000000000', sig, new Date(0))).toBe('ok')
    expect(verifySignedUrl('other'.repeat(10), 'k.png', '2000000000', sig, new Date(0))).toBe('invalid')
    expect(verifySignedUrl(secret, 'k.png', '2000000000', sig.toUpperCase(), new Date(0))).toBe('invalid')
    expect(verifySignedUrl(secret, 'k.png', '2e9', sig, new Date(0))).toBe('invalid')
    expect(verifySignedUrl(secret, 'k.png', undefined, sig, new Date(0))).toBe('invalid')
  })

  it('creates one secret per data folder, private to the user, and reads it back', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pigment-secret-'))
    try {
      const first = loadOrCreateSecret(join(dir, 'data'))
      expect(first).toMatch(/^[0-9a-f]{64}$/)
      expect(loadOrCreateSecret(join(dir, 'data'))).toBe(first)
      expect(statSync(join(dir, 'data', 'signing-secret')).mode & 0o777).toBe(0o600)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
