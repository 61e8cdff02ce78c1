/**
 * The one place that decides who is calling. Every API dialect runs `authHook` on its routes, so each foreign
 * header form maps to the same keys: the API keys in the database (`pigment keys create`, the admin API)
 * and the operator keys in the configuration. A failure throws `AUTH_UNAUTHORIZED` or `AUTH_FORBIDDEN`;
 * each dialect's error handler renders that in its own envelope.
 *
 * Header forms accepted: `Authorization: Bearer <key>` (OpenAI, Chutes, runpod-sdk), `Authorization: <key>`
 * (RunPod's documented bare form), `x-api-key: <key>` (Segmind) and `Authorization: Basic base64(key:secret)`
 * (Scenario: `pk_<id>` as key and the rest of the token as secret, or the whole token as either half).
 * @module
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import type { IncomingHttpHeaders } from 'node:http'
import type { FastifyRequest } from 'fastify'
import { errors } from '../core/errors.js'
import type { ApiKeyRecord, Role } from '../keys/key-record.js'
import { milliToCredits } from '../keys/key-record.js'
import type { KeyLookup } from '../keys/key-store.js'
import { isPublicKeyPart, parseKeyToken } from '../keys/key-token.js'
import { isLoopbackHost } from '../keys/loopback.js'

export type { Role } from '../keys/key-record.js'
export { isLoopbackHost } from '../keys/loopback.js'

/** Who made a request. */
export interface Caller {
  /** Stable id of the key (never the key itself); null when auth is off. */
  readonly keyId: string | null
  readonly role: Role
  /** Credits left on the key when the request arrived; null = unlimited (no credit accounting). */
  readonly remainingCredits: number | null
  /** Requests per minute the key may make; absent or null = unlimited. */
  readonly rpm?: number | null
}

/** The key table as the authenticator sees it (`KeyStore` implements it). */
export interface KeyDirectory {
  lookup(id: string, secret: string): Promise<KeyLookup>
  hasUsableKeys(): Promise<boolean>
  /** Records the key's last use. */
  touch(id: string): Promise<void>
}

export interface AuthSettings {
  /** Operator keys from the configuration: admins with no limits, compared by hash, never logged. */
  readonly apiKeys: readonly string[]
  /** The address the server listens on: with no keys at all, auth is off only on a loopback address. */
  readonly host: string
  /** Serve without keys on a non-loopback address (the operator said so explicitly). */
  readonly insecure?: boolean
  /** The database keys; absent = configuration keys only. */
  readonly keys?: KeyDirectory
  readonly clock?: () => number
}

/** Resolves the caller from the request headers or throws an auth error. Async so a key store can answer. */
export type Authenticator = (headers: IncomingHttpHeaders) => Promise<Caller>

const ANONYMOUS_ADMIN: Caller = Object.freeze({ keyId: null, role: 'admin', remainingCredits: null })

/** Longer headers are not keys; refusing them early keeps hashing cheap. */
const MAX_KEY_LENGTH = 4096
/** Whether any database key exists is re-read at most this often (a key made by the CLI counts soon). */
const KEYS_EXIST_TTL_MS = 1000
/** `last_used_at` is advisory: written at most this often per key, so requests do not all write. */
const TOUCH_EVERY_MS = 30_000

/** The keys a request presents, in any of the accepted header forms (none: an empty list). Never throws. */
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
 * Scenario sends `key:secret`. A key may be split across the pair (`pk_<id>` : secret), be the whole pair,
 * the secret, or the key with no secret, so each is a candidate; a wrong secret next to a right id fails.
 */
function basicCandidates(encoded: string): string[] {
  if (encoded.length > MAX_KEY_LENGTH * 2) return []
  const decoded = Buffer.from(encoded, 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  if (colon < 0) return [decoded]
  const user = decoded.slice(0, colon)
  const secret = decoded.slice(colon + 1)
  if (isPublicKeyPart(user) && secret !== '') return [`${user}_${secret}`, decoded, secret]
  return secret === '' ? [decoded, user] : [decoded, secret]
}

function firstValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value
}

/** A short, stable, non-secret id for a configuration key. */
export function keyIdOf(key: string): string {
  return `key_${createHash('sha256').update(key).digest('hex').slice(0, 16)}`
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest()
}

/** The caller a database key stands for. */
export function callerOfKey(key: ApiKeyRecord): Caller {
  return {
    keyId: key.id,
    role: key.role,
    remainingCredits: key.creditsMilli === null ? null : milliToCredits(key.creditsMilli),
    rpm: key.rpm,
  }
}

type Outcome = KeyLookup['outcome']
const FAILURE_MESSAGES: Readonly<Record<Exclude<Outcome, 'ok'>, string>> = {
  unknown: 'Invalid API key.',
  expired: 'This API key has expired.',
  revoked: 'This API key has been revoked.',
}

/** Checks the presented keys against the configuration keys (by digest, constant time) and the key store. */
export function createAuthenticator(settings: AuthSettings): Authenticator {
  const configured = settings.apiKeys.map((key) => ({ id: keyIdOf(key), digest: digest(key) }))
  const mayRunOpen = settings.insecure === true || isLoopbackHost(settings.host)
  const clock = settings.clock ?? Date.now
  const directory = settings.keys
  const touched = new Map<string, number>()
  let keysExist: { readonly value: boolean; readonly at: number } | undefined

  async function anyKeys(): Promise<boolean> {
    if (configured.length > 0) return true
    if (directory === undefined) return false
    const now = clock()
    if (keysExist === undefined || now - keysExist.at > KEYS_EXIST_TTL_MS) {
      keysExist = { value: await directory.hasUsableKeys(), at: now }
    }
    return keysExist.value
  }

  function noteUse(id: string): void {
    const now = clock()
    if (directory === undefined || now - (touched.get(id) ?? Number.NEGATIVE_INFINITY) < TOUCH_EVERY_MS)
      return
    touched.set(id, now)
    // Advisory only: a busy database must not fail the request that used the key.
    directory.touch(id).catch(() => touched.delete(id))
  }

  return async function authenticate(headers) {
    if (!(await anyKeys())) {
      if (mayRunOpen) return ANONYMOUS_ADMIN
      throw errors.AUTH_UNAUTHORIZED(
        'This server is reachable from the network and has no API keys; create one with `pigment keys create`.',
      )
    }
    const candidates = presentedKeys(headers)
    if (candidates.length === 0) throw errors.AUTH_UNAUTHORIZED('Missing API key.')
    let worst: Exclude<Outcome, 'ok'> = 'unknown'
    for (const candidate of candidates) {
      const presented = digest(candidate)
      const match = configured.find((key) => timingSafeEqual(key.digest, presented))
      if (match) return { keyId: match.id, role: 'admin', remainingCredits: null, rpm: null }
      const token = parseKeyToken(candidate)
      if (token === null || directory === undefined) continue
      const found = await directory.lookup(token.id, token.secret)
      if (found.outcome === 'ok') {
        noteUse(found.key.id)
        return callerOfKey(found.key)
      }
      if (found.outcome !== 'unknown') worst = found.outcome
    }
    throw errors.AUTH_UNAUTHORIZED(FAILURE_MESSAGES[worst])
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

/** The caller when the route authenticates at all (ops routes do not); for app-wide hooks. */
export function findCaller(request: FastifyRequest): Caller | undefined {
  return callers.get(request)
}

/** Whether a caller may see a record owned by `ownerKeyId` (admins see all; others only their own). */
export function mayAccess(caller: Caller, ownerKeyId: string | null): boolean {
  return caller.role === 'admin' || caller.keyId === ownerKeyId
}
