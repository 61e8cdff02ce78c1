/**
 * Storage keys: the one check every store runs before touching disk or a bucket, and the key layout for
 * generated images (the RunPod worker's `outputs/YYYY/MM/DD/HHMMSS/<id>_<i>.<ext>`).
 * @module
 */
import { errors } from '../core/errors.js'

const KEY_CHARS = /^[A-Za-z0-9._/-]+$/
const MAX_KEY_LENGTH = 1024

/** Throws STORAGE_BAD_KEY unless `key` is a relative path of `[A-Za-z0-9._/-]` with no `.`/`..`/empty parts. */
export function validateKey(key: string): string {
  const bad = (why: string) =>
    errors.STORAGE_BAD_KEY(`storage key ${JSON.stringify(key.slice(0, 100))} ${why}`, { field: 'key' })
  if (key.length === 0 || key.length > MAX_KEY_LENGTH) throw bad(`must be 1 to ${MAX_KEY_LENGTH} characters`)
  if (!KEY_CHARS.test(key)) throw bad('may only contain A-Z a-z 0-9 . _ / -')
  if (key.startsWith('/')) throw bad('must be relative')
  for (const part of key.split('/')) {
    if (part === '' || part === '.' || part === '..') throw bad('may not contain empty, "." or ".." parts')
  }
  return key
}

function pad(value: number, width = 2): string {
  return String(value).padStart(width, '0')
}

/**
 * `outputs/2026/05/06/070809/<jobId>_<index>.<ext>` by the UTC date given, `…/<jobId>_<index>_r<run>.<ext>`
 * from a job's second run on: two runs of one job within the same second (a worker taken for dead and the
 * one that took its job over) must never write, or delete, each other's images.
 */
export function assetKey(jobId: string, index: number, ext: string, date: Date, run = 1): string {
  const day = `${date.getUTCFullYear()}/${pad(date.getUTCMonth() + 1)}/${pad(date.getUTCDate())}`
  const time = `${pad(date.getUTCHours())}${pad(date.getUTCMinutes())}${pad(date.getUTCSeconds())}`
  const suffix = run > 1 ? `_r${run}` : ''
  return validateKey(`outputs/${day}/${time}/${jobId}_${index}${suffix}.${ext}`)
}

const CONTENT_TYPES: Readonly<Record<string, string>> = Object.freeze({
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  json: 'application/json',
})

/** The content type for a key's extension (`application/octet-stream` when unknown). */
export function contentTypeForKey(key: string): string {
  const dot = key.lastIndexOf('.')
  const ext = dot === -1 ? '' : key.slice(dot + 1).toLowerCase()
  return CONTENT_TYPES[ext] ?? 'application/octet-stream'
}
