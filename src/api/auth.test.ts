import { describe, expect, it } from 'vitest'
import { isPigmentError } from '../core/errors.js'
import { createAuthenticator, isLoopbackHost, keyIdOf, mayAccess, requireAdmin } from './auth.js'

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
