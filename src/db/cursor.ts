/**
 * Newest-first listings with opaque cursors: the cursor is the last row's creation time and id,
 * base64url-encoded, and `newestFirst` is the keyset query that reads the page after it. Jobs and assets
 * both list this way, so the ordering, the tie-break on id and the owner and date filters live here once.
 * @module
 */
import { type SelectQueryBuilder, sql } from 'kysely'
import { errors } from '../core/errors.js'
import type { Database } from './schema.js'

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

/** The columns a newest-first listing orders and filters by. */
interface ListedRow {
  readonly id: string
  readonly created_at: number
  readonly owner_key_id: string | null
}

/** The tables whose rows have those columns (jobs, assets). */
export type ListedTable = {
  [T in keyof Database]: Database[T] extends ListedRow ? T : never
}[keyof Database]

/** The filters every listing shares; undefined = no filter. */
export interface ListScope {
  /** Only this owner's rows (null = made with auth off); undefined = all owners. */
  readonly ownerKeyId?: string | null
  readonly createdAfter?: Date
  readonly createdBefore?: Date
}

/**
 * Narrows `query` to `scope`, to the rows after `after` (null = from the newest), newest first with ties on
 * creation time broken by id, at most `limit` rows.
 */
export function newestFirst<T extends ListedTable, O>(
  query: SelectQueryBuilder<Database, T, O>,
  scope: ListScope,
  after: ListPosition | null,
  limit: number,
): SelectQueryBuilder<Database, T, O> {
  // Kysely cannot see a column through a generic table name; `ListedTable` guarantees these exist.
  const createdAt = sql.ref<number>('created_at')
  const id = sql.ref<string>('id')
  const ownerKeyId = sql.ref<string | null>('owner_key_id')
  const { ownerKeyId: owner, createdAfter, createdBefore } = scope
  let page = query
  if (owner !== undefined)
    page = owner === null ? page.where(ownerKeyId, 'is', null) : page.where(ownerKeyId, '=', owner)
  if (createdAfter !== undefined) page = page.where(createdAt, '>', createdAfter.getTime())
  if (createdBefore !== undefined) page = page.where(createdAt, '<', createdBefore.getTime())
  if (after !== null) {
    page = page.where((eb) =>
      eb.or([
        eb(createdAt, '<', after.createdAt),
        eb.and([eb(createdAt, '=', after.createdAt), eb(id, '<', after.id)]),
      ]),
    )
  }
  return page.orderBy(createdAt, 'desc').orderBy(id, 'desc').limit(limit)
}
