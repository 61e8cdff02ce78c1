/**
 * Record ids: 26 lower-case Crockford base32 characters, a 48-bit millisecond timestamp then 80 random bits
 * (the ULID layout). Ids made later sort after earlier ones, and ids made in the same millisecond by one
 * process still sort in creation order, so `ORDER BY created_at, id` is FIFO.
 * @module
 */
import { randomBytes } from 'node:crypto'

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz'
const TIME_CHARS = 10
const RANDOM_CHARS = 16
const ID_PATTERN = /^[0-9a-hjkmnp-tv-z]{26}$/

let lastTime = -1
let lastRandom: number[] = []

function encodeTime(ms: number): string {
  let out = ''
  for (let i = 0; i < TIME_CHARS; i++) {
    out = ALPHABET[ms % 32] + out
    ms = Math.floor(ms / 32)
  }
  return out
}

function freshRandom(): number[] {
  const bytes = randomBytes(RANDOM_CHARS)
  return Array.from(bytes, (b) => b & 31)
}

/** Adds one to the base-32 digits, so a second id in the same millisecond sorts after the first. */
function increment(digits: number[]): number[] {
  const next = [...digits]
  for (let i = next.length - 1; i >= 0; i--) {
    if (next[i] < 31) {
      next[i]++
      return next
    }
    next[i] = 0
  }
  return freshRandom() // 2^80 ids in one millisecond: not going to happen
}

/** A new id; `now` (epoch ms) is injectable for tests. */
export function newId(now: number = Date.now()): string {
  if (now <= lastTime) {
    lastRandom = increment(lastRandom)
  } else {
    lastTime = now
    lastRandom = freshRandom()
  }
  return encodeTime(Math.max(now, lastTime)) + lastRandom.map((d) => ALPHABET[d]).join('')
}

/** True for strings shaped like an id; the API checks ids with this before touching the database. */
export function isId(value: string): boolean {
  return ID_PATTERN.test(value)
}
