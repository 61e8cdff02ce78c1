/**
 * What Pigment knows about an API key, apart from its secret: the public record, its limits, and the
 * values a new key or an edit may set. Credits are milli-credits here; the HTTP and CLI layers show credits.
 * @module
 */
import { parseDuration } from '../config/parse-value.js'

export type Role = 'admin' | 'user'

export const ROLES: readonly Role[] = ['admin', 'user']

export interface ApiKeyRecord {
  /** The public part of the token (`pk_<id>_…`); owner id of the key's jobs and assets. */
  readonly id: string
  readonly name: string
  readonly role: Role
  readonly createdAt: Date
  readonly lastUsedAt: Date | null
  readonly expiresAt: Date | null
  readonly revokedAt: Date | null
  /** Balance in milli-credits; null = unlimited. */
  readonly creditsMilli: number | null
  /** Requests per minute; null = unlimited. */
  readonly rpm: number | null
  /** Queued + running jobs at once; null = unlimited. */
  readonly concurrency: number | null
  /** Jobs reserved and not yet settled. */
  readonly activeJobs: number
}

export interface NewKey {
  readonly name: string
  readonly role?: Role
  readonly creditsMilli?: number | null
  readonly rpm?: number | null
  readonly concurrency?: number | null
  readonly expiresAt?: Date | null
}

/** Fields an admin may change; absent = unchanged, null = none / unlimited. */
export interface KeyChanges {
  readonly name?: string
  readonly role?: Role
  readonly creditsMilli?: number | null
  readonly rpm?: number | null
  readonly concurrency?: number | null
  readonly expiresAt?: Date | null
}

export type KeyStatus = 'active' | 'expired' | 'revoked'

export function keyStatus(key: Pick<ApiKeyRecord, 'expiresAt' | 'revokedAt'>, now: Date): KeyStatus {
  if (key.revokedAt !== null) return 'revoked'
  if (key.expiresAt !== null && key.expiresAt.getTime() <= now.getTime()) return 'expired'
  return 'active'
}

export const MILLI_PER_CREDIT = 1000

/** Credits as typed by people (at most 3 decimals) → milli-credits; throws RangeError otherwise. */
export function creditsToMilli(credits: number): number {
  const milli = Math.round(credits * MILLI_PER_CREDIT)
  if (!Number.isFinite(credits) || credits < 0 || Math.abs(milli - credits * MILLI_PER_CREDIT) > 1e-6) {
    throw new RangeError(`credits must be a number >= 0 with at most 3 decimals, got ${credits}`)
  }
  if (!Number.isSafeInteger(milli)) throw new RangeError(`credits ${credits} is too large`)
  return milli
}

export function milliToCredits(milli: number): number {
  return milli / MILLI_PER_CREDIT
}

/**
 * An expiry as typed on the command line: an ISO date (`2027-01-31`, `2027-01-31T12:00:00Z`) or a duration
 * from `now` (`30d`, `12h`, `90m`). Throws RangeError for anything else or a time already past.
 */
export function parseExpiry(text: string, now: Date): Date {
  let at: Date
  if (/^\s*\d+(\.\d+)?\s*(ms|s|m|h|d)\s*$/i.test(text)) {
    at = new Date(now.getTime() + parseDuration(text) * 1000)
  } else if (/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(text.trim())) {
    at = new Date(text.trim())
  } else {
    throw new RangeError(`expected an ISO date (2027-01-31) or a duration (30d, 12h), got "${text}"`)
  }
  if (Number.isNaN(at.getTime())) throw new RangeError(`"${text}" is not a valid date`)
  if (at.getTime() <= now.getTime()) throw new RangeError(`expiry ${at.toISOString()} is already past`)
  return at
}
