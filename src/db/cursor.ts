/**
 * Newest-first listings with opaque cursors: the cursor is the last row's creation time and id,
 * base64url-encoded, and `newestFirst` is the keyset query that reads the page after it. Jobs and assets
 * both list this way, so the ordering, the tie-break on id, the owner and date filters and the paging
 * (`readPage`: the limit, the extra row, the next cursor) live here once.
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

/** Most rows one page may ask for. */
export const MAX_PAGE_SIZE = 1000

/** What a caller asks for: `limit` rows after `cursor` (null or absent = from the newest). */
export interface PageRequest {
  readonly limit: number
  readonly cursor?: string | null
}

/**
 * One page of a newest-first listing: checks the limit (VALIDATION_FAILED, field `limit`), asks `fetch`
 * for one row more than the page so that a next page is known to exist without counting, and makes the
 * next cursor from the last row shown (null on the last page).
 */
export async function readPage<R extends Pick<ListedRow, 'id' | 'created_at'>>(
  page: PageRequest,
  fetch: (after: ListPosition | null, limit: number) => Promise<readonly R[]>,
): Promise<{ readonly rows: readonly R[]; readonly nextCursor: string | null }> {
  const { limit } = page
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
    throw errors.VALIDATION_FAILED(`limit must be an integer from 1 to ${MAX_PAGE_SIZE}`, { field: 'limit' })
  }
  const after = page.cursor == null ? null : decodeCursor(page.cursor)
  const rows = await fetch(after, limit + 1)
  const more = rows.length > limit
  const shown = more ? rows.slice(0, limit) : rows
  const last = shown.at(-1)
  return {
    rows: shown,
    nextCursor: more && last !== undefined ? encodeCursor({ createdAt: last.created_at, id: last.id }) : null,
  }
}
