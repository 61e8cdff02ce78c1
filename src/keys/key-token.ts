/**
 * API key tokens: `pk_<id>_<secret>`. The id is public (it names the key in lists, logs, usage and job
 * ownership); the secret is 256 random bits and only its SHA-256 is stored. A plain hash is enough for a
 * secret that is random and this long: there is nothing to guess and no dictionary to try, so a slow KDF
 * would only slow every request down.
 *
 * Scenario's clients send an API key and a secret separately (Basic `key:secret`): give them `pk_<id>` as
 * the key and the secret part as the secret.
 * @module
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'

export const TOKEN_PREFIX = 'pk_'
const ID_BYTES = 8
const SECRET_BYTES = 32
const TOKEN = /^pk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/
/** The key half of a Basic `key:secret` pair. */
const PUBLIC_PART = /^pk_[0-9a-f]{16}$/

export interface KeyToken {
  /** Public id of the key. */
  readonly id: string
  readonly secret: string
}

/** A new random key; `token` is what the holder sends, `secretHash` what the server keeps. */
export function generateKeyToken(): {
  readonly token: string
  readonly id: string
  readonly secretHash: string
} {
  const id = randomBytes(ID_BYTES).toString('hex')
  const secret = randomBytes(SECRET_BYTES).toString('base64url')
  return { token: `${TOKEN_PREFIX}${id}_${secret}`, id, secretHash: hashSecret(secret) }
}

/** The id and secret of a well-formed token; null for anything else (never throws). */
export function parseKeyToken(value: string): KeyToken | null {
  const match = TOKEN.exec(value)
  return match === null ? null : { id: match[1], secret: match[2] }
}

/** Whether `value` is the `pk_<id>` half a Scenario client sends as its key. */
export function isPublicKeyPart(value: string): boolean {
  return PUBLIC_PART.test(value)
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex')
}

/** Compares the secret's hash with the stored one in constant time. */
export function secretMatches(secret: string, storedHash: string): boolean {
  const presented = createHash('sha256').update(secret, 'utf8').digest()
  const stored = Buffer.from(storedHash, 'hex')
  return stored.length === presented.length && timingSafeEqual(stored, presented)
}
