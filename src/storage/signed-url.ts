/**
 * Expiring links to files Pigment serves itself: `/files/<key>?expires=<epoch s>&sig=<hex>`, where `sig` is
 * HMAC-SHA256 over the key and the expiry with a server secret. Anyone with the link can fetch the file
 * until it expires; changing the key or the expiry breaks the signature.
 * @module
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const SECRET_FILE = 'signing-secret'
const MIN_SECRET_LENGTH = 32
const SIG_PATTERN = /^[0-9a-f]{64}$/
const EXPIRES_PATTERN = /^\d{1,12}$/

export type SignedUrlCheck = 'ok' | 'expired' | 'invalid'

export function signature(secret: string, key: string, expires: number): string {
  return createHmac('sha256', secret).update(`${key}\n${expires}`).digest('hex')
}

/** The query string for `key`, valid until `expires` (epoch seconds). */
export function signedQuery(secret: string, key: string, expires: number): string {
  return `expires=${expires}&sig=${signature(secret, key, expires)}`
}

/**
 * Checks a signed link's parts as they arrive in the request (strings, possibly missing).
 * `invalid` for a malformed or wrong signature, `expired` when it was right but is past its time.
 */
export function verifySignedUrl(
  secret: string,
  key: string,
  expires: string | undefined,
  sig: string | undefined,
  now: Date = new Date(),
): SignedUrlCheck {
  if (expires === undefined || sig === undefined) return 'invalid'
  if (!EXPIRES_PATTERN.test(expires) || !SIG_PATTERN.test(sig)) return 'invalid'
  const expected = Buffer.from(signature(secret, key, Number(expires)), 'hex')
  if (!timingSafeEqual(expected, Buffer.from(sig, 'hex'))) return 'invalid'
  return Number(expires) * 1000 <= now.getTime() ? 'expired' : 'ok'
}

/**
 * The URL-signing secret kept in `<dataDir>/signing-secret`, created (mode 0600) on first use so links
 * stay valid across restarts.
 */
export function loadOrCreateSecret(dataDir: string): string {
  const path = join(dataDir, SECRET_FILE)
  mkdirSync(dataDir, { recursive: true })
  try {
    writeFileSync(path, `${randomBytes(32).toString('hex')}\n`, { flag: 'wx', mode: 0o600 })
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
  }
  const secret = readFileSync(path, 'utf8').trim()
  if (secret.length < MIN_SECRET_LENGTH) {
    throw new Error(`${path}: the signing secret must be at least ${MIN_SECRET_LENGTH} characters`)
  }
  return secret
}
