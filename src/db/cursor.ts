/**
 * Opaque cursors for newest-first listings: the last row's creation time and id, base64url-encoded.
 * @module
 */
import { errors } from '../core/errors.js'

export interface ListPosition {
  readonly createdAt: number
  readonly id: string
}

export function encodeCursor(position: ListPosition): string {
  return Buffer.from(`${position.createdAt}.${position.id}`, 'utf8').toString('base64url')
}

/** Throws VALIDATION_FAILED (field `cursor`) for anything `encodeCursor` did not make. */
export function decodeCursor(cursor: string): ListPosition {
  const text = Buffer.from(cursor, 'base64url').toString('utf8')
  const match = /^(\d{1,15})\.([0-9a-z]{1,64})$/.exec(text)
  if (match === null)
    throw errors.VALIDATION_FAILED('cursor is not one this server returned', { field: 'cursor' })
  return { createdAt: Number(match[1]), id: match[2] }
}
