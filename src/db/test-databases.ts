/**
 * Databases for tests: SQLite in memory always, and Postgres when one answers at PIGMENT_TEST_POSTGRES_URL
 * (default: the local `test` database). Every Postgres handle gets its own fresh schema
 * (`pigment_test_<random>`), dropped again by `close()`, so test runs never see each other's rows.
 * @module
 */
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { type DatabaseHandle, type DialectName, openDatabase } from './connect.js'

export const TEST_POSTGRES_URL =
  process.env.PIGMENT_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

/** True when Postgres accepts a connection within a second. */
export async function postgresReachable(url: string = TEST_POSTGRES_URL): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 })
  try {
    await client.connect()
    await client.query('select 1')
    return true
  } catch {
    return false
  } finally {
    await client.end().catch(() => {})
  }
}

async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL })
  await client.connect()
  try {
    await client.query(sql)
  } finally {
    await client.end()
  }
}

/** A migrated database of the given dialect; `close()` also drops a Postgres test schema. */
export async function openTestDatabase(dialect: DialectName): Promise<DatabaseHandle> {
  if (dialect === 'sqlite') return openDatabase('sqlite::memory:')
  const schema = `pigment_test_${randomBytes(6).toString('hex')}`
  await adminQuery(`create schema ${schema}`)
  const handle = await openDatabase(TEST_POSTGRES_URL, { schema, poolSize: 4 }).catch(
    async (error: unknown) => {
      await adminQuery(`drop schema if exists ${schema} cascade`).catch(() => {})
      throw error
    },
  )
  return {
    db: handle.db,
    dialect: handle.dialect,
    async close() {
      await handle.close()
      await adminQuery(`drop schema if exists ${schema} cascade`)
    },
  }
}

export interface TestDialect {
  readonly dialect: DialectName
  readonly available: boolean
  /** The describe title, saying why it is skipped when it is. */
  readonly title: string
}

/** Which dialects to run a suite on; Postgres is listed as skipped (with the reason) when unreachable. */
export async function testDialects(): Promise<TestDialect[]> {
  const reachable = await postgresReachable()
  if (!reachable) {
    console.warn(`Postgres not reachable at ${TEST_POSTGRES_URL}: Postgres runs are skipped`)
  }
  return [
    { dialect: 'sqlite', available: true, title: 'sqlite' },
    {
      dialect: 'postgres',
      available: reachable,
      title: reachable ? 'postgres' : `postgres (skipped: not reachable at ${TEST_POSTGRES_URL})`,
    },
  ]
}

/** Empties every table, so one migrated database can serve many tests. */
export async function clearTables(handle: DatabaseHandle): Promise<void> {
  await handle.db.deleteFrom('assets').execute()
  await handle.db.deleteFrom('jobs').execute()
  await handle.db.deleteFrom('credit_ledger').execute()
  await handle.db.deleteFrom('credit_charges').execute()
  await handle.db.deleteFrom('api_keys').execute()
}
