import { sql } from 'kysely'
import pg from 'pg'
import { describe, expect, it } from 'vitest'
import { openTestDatabase, postgresReachable, TEST_POSTGRES_URL } from './test-databases.js'

const reachable = await postgresReachable()

describe.skipIf(!reachable)('postgres pool when the server drops connections', () => {
  it('keeps the process alive and answers again once idle connections were terminated', async () => {
    const handle = await openTestDatabase('postgres')
    try {
      const pid = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(handle.db)
      const backend = pid.rows[0].pid
      // another session ends ours, as a restarting or failing-over server would
      const killer = new pg.Client({ connectionString: TEST_POSTGRES_URL })
      await killer.connect()
      try {
        await killer.query('select pg_terminate_backend($1)', [backend])
      } finally {
        await killer.end()
      }
      await new Promise((resolve) => setTimeout(resolve, 100))
      const again = await sql<{ one: number }>`select 1 as one`.execute(handle.db)
      expect(again.rows[0].one).toBe(1)
    } finally {
      await handle.close()
    }
  })
})
