import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { isPigmentError } from '../core/errors.js'
import { LocalStore } from '../storage/local-store.js'
import { signedFiles } from './signed-files.js'

const SECRET = 'a-test-secret-that-is-long-enough-0123456789'

function store(clock = () => Date.now()) {
  const root = mkdtempSync(join(tmpdir(), 'pigment-files-'))
  return new LocalStore({ root, publicBaseUrl: 'http://127.0.0.1:1', secret: SECRET, clock })
}

function codeOf(run: () => unknown): string | undefined {
  try {
    run()
  } catch (error) {
    return isPigmentError(error) ? error.code : String(error)
  }
  return undefined
}

describe('signedFiles', () => {
  it('grants the key of a link the store signed, and nothing else', async () => {
    const local = store()
    const files = signedFiles(local)
    const url = new URL(await local.url('outputs/2026/01/02/030405/abc_0.png', 60))
    expect(files.verify(url.pathname + url.search)).toBe('outputs/2026/01/02/030405/abc_0.png')
    const forged = url.search.replace(/sig=([0-9a-f])/, (_m, c: string) => `sig=${c === '0' ? '1' : '0'}`)
    expect(codeOf(() => files.verify(url.pathname + forged))).toBe('STORAGE_BAD_SIGNATURE')
    expect(codeOf(() => files.verify(`/files/outputs/other.png${url.search}`))).toBe('STORAGE_BAD_SIGNATURE')
    expect(codeOf(() => files.verify(url.pathname))).toBe('STORAGE_BAD_SIGNATURE')
  })

  it('says 410 for an expired link and 400 for a key that climbs out', async () => {
    const signedAt = Date.now() - 120_000
    const files = signedFiles(store())
    const old = new URL(await store(() => signedAt).url('a/b.png', 60))
    expect(codeOf(() => files.verify(old.pathname + old.search))).toBe('STORAGE_URL_EXPIRED')
    expect(codeOf(() => files.verify('/files/..%2F..%2Fetc%2Fpasswd?expires=1&sig=00'))).toBe(
      'STORAGE_BAD_KEY',
    )
  })
})
