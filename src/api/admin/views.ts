/**
 * Admin API shapes ↔ the key store: records as JSON views, and request bodies as store changes (credits
 * to milli-credits, expiries parsed), each bad value a VALIDATION_FAILED naming its field.
 * @module
 */
import { errors } from '../../core/errors.js'
import {
  type ApiKeyRecord,
  creditsToMilli,
  type KeyChanges,
  keyStatus,
  milliToCredits,
  parseExpiry,
} from '../../keys/key-record.js'
import type { CreateKeyBody, KeyView, UpdateKeyBody } from './schema.js'

const iso = (date: Date | null) => (date === null ? null : date.toISOString())

export function keyView(key: ApiKeyRecord, now: Date): KeyView {
  return {
    id: key.id,
    name: key.name,
    role: key.role,
    status: keyStatus(key, now),
    createdAt: key.createdAt.toISOString(),
    lastUsedAt: iso(key.lastUsedAt),
    expiresAt: iso(key.expiresAt),
    revokedAt: iso(key.revokedAt),
    credits: key.creditsMilli === null ? null : milliToCredits(key.creditsMilli),
    rpm: key.rpm,
    concurrency: key.concurrency,
    activeJobs: key.activeJobs,
  }
}

function field<T>(name: string, parse: () => T): T {
  try {
    return parse()
  } catch (cause) {
    if (!(cause instanceof RangeError)) throw cause
    throw errors.VALIDATION_FAILED(`${name}: ${cause.message}`, { field: name, cause })
  }
}

/** Body → store changes; `undefined` fields stay unchanged, `null` means none / unlimited. */
export function toKeyChanges(body: CreateKeyBody | UpdateKeyBody, now: Date): KeyChanges {
  const changes: { -readonly [K in keyof KeyChanges]: KeyChanges[K] } = {}
  if (body.name !== undefined) changes.name = body.name
  if (body.role !== undefined) changes.role = body.role
  if (body.rpm !== undefined) changes.rpm = body.rpm
  if (body.concurrency !== undefined) changes.concurrency = body.concurrency
  const { credits, expires } = body
  if (credits !== undefined)
    changes.creditsMilli = credits === null ? null : field('credits', () => creditsToMilli(credits))
  if (expires !== undefined)
    changes.expiresAt = expires === null ? null : field('expires', () => parseExpiry(expires, now))
  return changes
}

/** A time-range bound of the usage query; VALIDATION_FAILED naming the field when it is not a date. */
export function parseTime(name: string, value: string | undefined, fallback: Date): Date {
  if (value === undefined) return fallback
  const at = /^\d{4}-\d{2}-\d{2}/.test(value) ? new Date(value) : new Date(Number.NaN)
  if (Number.isNaN(at.getTime())) {
    throw errors.VALIDATION_FAILED(`${name}: expected an ISO date or time, got "${value}"`, { field: name })
  }
  return at
}
