import { describe, expect, it } from 'vitest'
import { isPigmentError } from '../core/errors.js'
import { decodeCursor, encodeCursor, type ListPosition, MAX_PAGE_SIZE, readPage } from './cursor.js'

interface Row {
  readonly id: string
  readonly created_at: number
}

// newest first, as `newestFirst` returns them
const ROWS: readonly Row[] = [5, 4, 3, 2, 1].map((n) => ({ id: `r${n}`, created_at: 1000 + n }))

function fetchAfter(after: ListPosition | null, limit: number): Promise<readonly Row[]> {
  const from = after === null ? 0 : ROWS.findIndex((row) => row.id === after.id) + 1
  return Promise.resolve(ROWS.slice(from, from + limit))
}

describe('readPage', () => {
  it('walks every row once, page by page, and ends with a null cursor', async () => {
    const seen: string[] = []
    const asked: number[] = []
    let cursor: string | null = null
    do {
      const page: { readonly rows: readonly Row[]; readonly nextCursor: string | null } = await readPage(
        { limit: 2, cursor },
        (after, limit) => {
          asked.push(limit)
          return fetchAfter(after, limit)
        },
      )
      seen.push(...page.rows.map((row) => row.id))
      cursor = page.nextCursor
    } while (cursor !== null)
    expect(seen).toEqual(['r5', 'r4', 'r3', 'r2', 'r1'])
    // one row beyond the page tells whether another page exists
    expect(asked).toEqual([3, 3, 3])
  })

  it('ends on a full last page without an empty page after it', async () => {
    const page = await readPage({ limit: 5 }, fetchAfter)
    expect(page.rows).toHaveLength(5)
    expect(page.nextCursor).toBeNull()
  })

  it('makes the cursor from the last row shown', async () => {
    const page = await readPage({ limit: 2, cursor: null }, fetchAfter)
    expect(decodeCursor(page.nextCursor ?? '')).toEqual({ createdAt: 1004, id: 'r4' })
    expect(page.nextCursor).toBe(encodeCursor({ createdAt: 1004, id: 'r4' }))
  })

  it('refuses a limit out of range and a cursor it did not make, before reading', async () => {
    const never = () => Promise.reject(new Error('read'))
    for (const limit of [0, 1.5, MAX_PAGE_SIZE + 1]) {
      await expect(readPage({ limit }, never)).rejects.toSatisfy(
        (error) => isPigmentError(error) && error.code === 'VALIDATION_FAILED' && error.field === 'limit',
      )
    }
    await expect(readPage({ limit: 1, cursor: 'garbage' }, never)).rejects.toSatisfy(
      (error) => isPigmentError(error) && error.field === 'cursor',
    )
  })
})
