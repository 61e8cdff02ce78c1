import type { IncomingHttpHeaders } from 'node:http'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isPigmentError } from '../core/errors.js'
import {
  createAuthenticator,
  isLoopbackHost,
  type KeyDirectory,
  keyIdOf,
  mayAccess,
  presentedKeys,
  requireAdmin,
} from './auth.js'

const KEY = 'sk-pigment-test-0123456789'
const guarded = createAuthenticator({ apiKeys: [KEY, 'scn-key:scn-secret'], host: '0.0.0.0' })

async function rejection(promise: Promise<unknown>) {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error('expected a rejection')
}

const basic = (pair: string) => `Basic ${Buffer.from(pair).toString('base64')}`

describe('createAuthenticator', () => {
  it('needs no key when none are configured and the server is on loopback', async () => {
    const open = createAuthenticator({ apiKeys: [], host: '127.0.0.1' })
    expect(await open({})).toEqual({ keyId: null, role: 'admin', remainingCredits: null })
  })

  it('refuses every request on a network address with no keys, unless told it is insecure on purpose', async () => {
    const exposed = createAuthenticator({ apiKeys: [], host: '0.0.0.0' })
    expect(isPigmentError(await rejection(exposed({ authorization: 'Bearer x' })), 'AUTH_UNAUTHORIZED')).toBe(
      true,
    )
    const insecure = createAuthenticator({ apiKeys: [], host: '0.0.0.0', insecure: true })
    expect((await insecure({})).role).toBe('admin')
  })

  it.each([
    ['Bearer (OpenAI, Chutes, runpod-sdk)', { authorization: `Bearer ${KEY}` }],
    ['lower-case bearer scheme', { authorization: `bearer ${KEY}` }],
    ["RunPod's bare Authorization", { authorization: KEY }],
    ['x-api-key (Segmind)', { 'x-api-key': KEY }],
    ['Basic with the key as secret', { authorization: basic(`any-id:${KEY}`) }],
    ['Basic with the key and no secret', { authorization: basic(`${KEY}:`) }],
    ['Basic key:secret pair configured whole (Scenario)', { authorization: basic('scn-key:scn-secret') }],
  ])('accepts %s and names the key by a non-secret id', async (_name, headers) => {
    const caller = await guarded(headers)
    expect(caller.keyId).toMatch(/^key_[0-9a-f]{16}$/)
    expect(caller.keyId).not.toContain(KEY)
  })

  it('gives the same key the same id whichever header carried it', async () => {
    const a = await guarded({ authorization: `Bearer ${KEY}` })
    const b = await guarded({ 'x-api-key': KEY })
    expect(a.keyId).toBe(b.keyId)
    expect(a.keyId).toBe(keyIdOf(KEY))
  })

  it.each([
    ['no header', {}],
    ['a wrong bearer key', { authorization: 'Bearer nope' }],
    ['a right key id with a wrong secret', { authorization: basic('scn-key:wrong') }],
    ['an empty bearer', { authorization: 'Bearer ' }],
    ['garbage base64', { authorization: 'Basic %%%%' }],
    ['a huge header', { authorization: `Bearer ${'k'.repeat(100_000)}` }],
    ['binary bytes', { 'x-api-key': '\u0000\u00ff\ufffd' }],
  ])('rejects %s with AUTH_UNAUTHORIZED', async (_name, headers) => {
    const error = await rejection(guarded(headers))
    expect(isPigmentError(error, 'AUTH_UNAUTHORIZED')).toBe(true)
  })
})

describe('roles and ownership', () => {
  it('requireAdmin lets admins through and stops users with AUTH_FORBIDDEN', () => {
    expect(() => requireAdmin({ keyId: 'a', role: 'admin', remainingCredits: null }, 'cleanup')).not.toThrow()
    try {
      requireAdmin({ keyId: 'u', role: 'user', remainingCredits: null }, 'cleanup')
      expect.unreachable()
    } catch (error) {
      expect(isPigmentError(error, 'AUTH_FORBIDDEN')).toBe(true)
    }
  })

  it('mayAccess: users see only their own records, admins see all', () => {
    const user = { keyId: 'u1', role: 'user', remainingCredits: null } as const
    expect(mayAccess(user, 'u1')).toBe(true)
    expect(mayAccess(user, 'u2')).toBe(false)
    expect(mayAccess({ ...user, role: 'admin' }, 'u2')).toBe(true)
  })
})

describe('isLoopbackHost', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.1.2.3', true],
    ['localhost', true],
    ['::1', true],
    ['[::1]', true],
    ['0.0.0.0', false],
    ['::', false],
    ['192.168.1.5', false],
  ])('%s → %s', (host, expected) => {
    expect(isLoopbackHost(host)).toBe(expected)
  })
})

describe('database keys', () => {
  const TOKEN = 'pk_0123456789abcdef_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcde'
  const secret = TOKEN.slice('pk_0123456789abcdef_'.length)
  const directory = (outcome: 'ok' | 'revoked' | 'expired', usable = true): KeyDirectory => ({
    async lookup(id, presented) {
      if (id !== '0123456789abcdef' || presented !== secret) return { outcome: 'unknown' }
      if (outcome !== 'ok') return { outcome }
      return {
        outcome: 'ok',
        key: {
          id,
          name: 'k',
          role: 'user',
          createdAt: new Date(0),
          lastUsedAt: null,
          expiresAt: null,
          revokedAt: null,
          creditsMilli: 2500,
          rpm: 7,
          concurrency: null,
          activeJobs: 0,
        },
      }
    },
    hasUsableKeys: async () => usable,
    touch: async () => {},
  })

  it.each([
    ['Bearer', { authorization: `Bearer ${TOKEN}` }],
    ['bare Authorization', { authorization: TOKEN }],
    ['x-api-key', { 'x-api-key': TOKEN }],
    ['Basic pk_<id>:<secret>', { authorization: basic(`pk_0123456789abcdef:${secret}`) }],
    ['Basic with the token as secret', { authorization: basic(`me:${TOKEN}`) }],
  ])('resolves a stored key from %s, with its role, credits and rpm', async (_name, headers) => {
    const authenticate = createAuthenticator({ apiKeys: [], host: '127.0.0.1', keys: directory('ok') })
    expect(await authenticate(headers)).toEqual({
      keyId: '0123456789abcdef',
      role: 'user',
      remainingCredits: 2.5,
      rpm: 7,
    })
  })

  it('says why a stored key was refused, and turns auth on at loopback once any key exists', async () => {
    const message = async (outcome: 'revoked' | 'expired') =>
      (
        (await rejection(
          createAuthenticator({ apiKeys: [], host: '127.0.0.1', keys: directory(outcome) })({
            authorization: `Bearer ${TOKEN}`,
          }),
        )) as Error
      ).message
    expect(await message('revoked')).toMatch(/revoked/)
    expect(await message('expired')).toMatch(/expired/)
    const guardedByStore = createAuthenticator({ apiKeys: [], host: '127.0.0.1', keys: directory('ok') })
    expect(isPigmentError(await rejection(guardedByStore({})), 'AUTH_UNAUTHORIZED')).toBe(true)
    const noneUsable = createAuthenticator({ apiKeys: [], host: '127.0.0.1', keys: directory('ok', false) })
    expect((await noneUsable({})).keyId).toBeNull()
  })
})

describe('fuzzing the header parsing', () => {
  const headerValue = fc.oneof(
    fc.string({ maxLength: 300 }),
    fc.string({ unit: 'grapheme', maxLength: 100 }),
    fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes).toString('latin1')),
    fc.string({ maxLength: 200 }).map((text) => `Basic ${Buffer.from(text).toString('base64')}`),
    fc.string({ maxLength: 200 }).map((text) => `Bearer ${text}`),
    fc.string({ maxLength: 50 }).map((text) => `pk_${text}`),
    fc.integer({ min: 4000, max: 200_000 }).map((size) => `Bearer ${'k'.repeat(size)}`),
  )
  const headers = fc
    .record(
      {
        authorization: fc.oneof(headerValue, fc.array(headerValue, { maxLength: 3 })),
        'x-api-key': headerValue,
      },
      { requiredKeys: [] },
    )
    .map((record): IncomingHttpHeaders => record as IncomingHttpHeaders)
  const stored = createAuthenticator({
    apiKeys: [KEY],
    host: '0.0.0.0',
    keys: {
      lookup: async () => ({ outcome: 'unknown' }),
      hasUsableKeys: async () => true,
      touch: async () => {},
    },
  })

  it('presentedKeys never throws and returns only bounded strings', () => {
    fc.assert(
      fc.property(headers, (given) => {
        for (const key of presentedKeys(given)) {
          expect(typeof key).toBe('string')
          expect(key.length).toBeGreaterThan(0)
          expect(key.length).toBeLessThanOrEqual(4096)
        }
      }),
      { numRuns: 500 },
    )
  })

  it('anything that is not a key is refused with AUTH_UNAUTHORIZED, never another error', async () => {
    await fc.assert(
      fc.asyncProperty(headers, async (given) => {
        const outcome = await stored(given).then(
          (caller) => caller,
          (error: unknown) => error,
        )
        if (isPigmentError(outcome)) expect(outcome.code).toBe('AUTH_UNAUTHORIZED')
        else expect(outcome).toMatchObject({ role: 'admin' }) // only the configured key may pass
      }),
      { numRuns: 500 },
    )
  })
})
