import { sql } from 'kysely'
import pg from 'pg'
import { describe, expect, it } from 'vitest'
import { isDatabaseOutage } from './outage.js'
import { openTestDatabase, postgresReachable, TEST_POSTGRES_URL } from './test-databases.js'

const reachable = await postgresReachable()

/** Ends a backend from another session, as a restarting or failing-over server would. */
async function terminate(backend: number): Promise<void> {
  const killer = new pg.Client({ connectionString: TEST_POSTGRES_URL })
  await killer.connect()
  try {
    await killer.query('select pg_terminate_backend($1)', [backend])
  } finally {
    await killer.end()
  }
}

function uncaughtErrors(): { readonly seen: unknown[]; stop(): void } {
  const seen: unknown[] = []
  const record = (error: unknown) => seen.push(error)
  process.on('uncaughtException', record)
  return { seen, stop: () => process.off('uncaughtException', record) }
}

describe.skipIf(!reachable)('postgres pool when the server drops connections', () => {
  it('keeps the process alive and answers again once idle connections were terminated', async () => {
    const handle = await openTestDatabase('postgres')
    try {
      const pid = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(handle.db)
      await terminate(pid.rows[0].pid)
      await new Promise((resolve) => setTimeout(resolve, 100))
      const again = await sql<{ one: number }>`select 1 as one`.execute(handle.db)
      expect(again.rows[0].one).toBe(1)
    } finally {
      await handle.close()
    }
  })

  it('keeps the process alive when a connection in use (inside a transaction) is terminated', async () => {
    const handle = await openTestDatabase('postgres')
    const uncaught = uncaughtErrors()
    try {
      const outcome = await handle.db
        .transaction()
        .execute(async (trx) => {
          const pid = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx)
          // the connection sits checked out and idle in the transaction while its backend ends
          await terminate(pid.rows[0].pid)
          await new Promise((resolve) => setTimeout(resolve, 200))
          await sql`select 1`.execute(trx)
        })
        .then(
          () => 'committed',
          (error: unknown) => error,
        )
      expect(isDatabaseOutage(outcome)).toBe(true)
      const again = await sql<{ one: number }>`select 1 as one`.execute(handle.db)
      expect(again.rows[0].one).toBe(1)
      expect(uncaught.seen).toEqual([])
    } finally {
      uncaught.stop()
      await handle.close()
    }
  })
})
