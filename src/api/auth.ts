/**
 * The one place that decides who is calling. Every API dialect runs `authHook` on its routes, so each foreign
 * header form maps to the same keys, and accounts, credits and rate limits (issue #6) replace
 * `createAuthenticator` without touching the dialects. A failure throws `AUTH_UNAUTHORIZED` or
 * `AUTH_FORBIDDEN`; each dialect's error handler renders that in its own envelope.
 *
 * Header forms accepted: `Authorization: Bearer <key>` (OpenAI, Chutes, runpod-sdk), `Authorization: <key>`
 * (RunPod's documented bare form), `x-api-key: <key>` (Segmind) and `Authorization: Basic base64(key:secret)`
 * (Scenario).
 * @module
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import type { IncomingHttpHeaders } from 'node:http'
import type { FastifyRequest } from 'fastify'
import { errors } from '../core/errors.js'

export type Role = 'admin' | 'user'

/** Who made a request. */
export interface Caller {
  /** Stable id of the key (never the key itself); null when auth is off. */
  readonly keyId: string | null
  readonly role: Role
  /** Credits left on the key; null = unlimited (no credit accounting). */
  readonly remainingCredits: number | null
}

export interface AuthSettings {
  /** Accepted keys. Keys given in the configuration belong to the operator, so they are admins. */
  readonly apiKeys: readonly string[]
  /** The address the server listens on: with no keys, auth is off only on a loopback address. */
  readonly host: string
  /** Serve without keys on a non-loopback address (the operator said so explicitly). */
  readonly insecure?: boolean
}

/** Resolves the caller from the request headers or throws an auth error. Async so a key store can answer. */
export type Authenticator = (headers: IncomingHttpHeaders) => Promise<Caller>

const ANONYMOUS_ADMIN: Caller = Object.freeze({ keyId: null, role: 'admin', remainingCredits: null })

/** Longer headers are not keys; refusing them early keeps hashing cheap. */
const MAX_KEY_LENGTH = 4096

/** The keys a request presents, in any of the accepted header forms (none: an empty list). */
export function presentedKeys(headers: IncomingHttpHeaders): string[] {
  const found: string[] = []
  const apiKey = firstValue(headers['x-api-key'])
  if (apiKey) found.push(apiKey.trim())
  const authorization = firstValue(headers.authorization)?.trim()
  if (authorization) {
    const space = authorization.indexOf(' ')
    const scheme = space < 0 ? '' : authorization.slice(0, space).toLowerCase()
    const rest = space < 0 ? '' : authorization.slice(space + 1).trim()
    if (scheme === 'bearer') found.push(rest)
    else if (scheme === 'basic') found.push(...basicCandidates(rest))
    else found.push(authorization)
  }
  return found.filter((key) => key.length > 0 && key.length <= MAX_KEY_LENGTH)
}

/**
 * Scenario sends `key:secret`. A configured key may be the whole pair, the secret, or the key with no
 * secret, so each is a candidate; a wrong secret next to a right key id still fails.
 */
function basicCandidates(encoded: string): string[] {
  const decoded = Buffer.from(encoded, 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  if (colon < 0) return [decoded]
  const user = decoded.slice(0, colon)
  const secret = decoded.slice(colon + 1)
  return secret === '' ? [decoded, user] : [decoded, secret]
}

function firstValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value
}

export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase()
  return bare === 'localhost' || bare === '::1' || /^127(\.\d{1,3}){3}$/.test(bare)
}

/** A short, stable, non-secret id for a configured key. */
export function keyIdOf(key: string): string {
  return `key_${createHash('sha256').update(key).digest('hex').slice(0, 16)}`
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest()
}

/** Checks keys given in the configuration; compares digests in constant time. */
export function createAuthenticator(settings: AuthSettings): Authenticator {
  const known = settings.apiKeys.map((key) => ({ id: keyIdOf(key), digest: digest(key) }))
  const open = known.length === 0 && (settings.insecure === true || isLoopbackHost(settings.host))

  return async function authenticate(headers) {
    if (open) return ANONYMOUS_ADMIN
    const candidates = presentedKeys(headers)
    if (known.length === 0) {
      throw errors.AUTH_UNAUTHORIZED(
        'This server is reachable from the network and has no API keys configured; set apiKeys to use it.',
      )
    }
    if (candidates.length === 0) throw errors.AUTH_UNAUTHORIZED('Missing API key.')
    for (const candidate of candidates) {
      const presented = digest(candidate)
      const match = known.find((key) => timingSafeEqual(key.digest, presented))
      if (match) return { keyId: match.id, role: 'admin', remainingCredits: null }
    }
    throw errors.AUTH_UNAUTHORIZED('Invalid API key.')
  }
}

/** Throws AUTH_FORBIDDEN unless the caller is an admin; `what` names the operation in the message. */
export function requireAdmin(caller: Caller, what: string): void {
  if (caller.role !== 'admin') throw errors.AUTH_FORBIDDEN(`${what} needs an admin key.`)
}

const callers = new WeakMap<FastifyRequest, Caller>()

/** An onRequest hook that authenticates before the body is read; `callerOf` reads the result. */
export function authHook(authenticate: Authenticator) {
  return async function authenticateRequest(request: FastifyRequest): Promise<void> {
    callers.set(request, await authenticate(request.headers))
  }
}

/** The caller `authHook` found for this request. */
export function callerOf(request: FastifyRequest): Caller {
  const caller = callers.get(request)
  if (!caller) throw errors.AUTH_UNAUTHORIZED('Request was not authenticated.')
  return caller
}

/** Whether a caller may see a record owned by `ownerKeyId` (admins see all; others only their own). */
export function mayAccess(caller: Caller, ownerKeyId: string | null): boolean {
  return caller.role === 'admin' || caller.keyId === ownerKeyId
}
