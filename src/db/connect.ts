/**
 * Opens the records database named by a URL: `sqlite:///abs/path.db`, `sqlite:relative.db`, `sqlite::memory:`
 * or `postgres://user@host:5432/db`. Everything above this file talks Kysely and never sees a driver.
 * @module
 */
import { mkdirSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import SqliteDatabase from 'better-sqlite3'
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely'
import pg from 'pg'
import { migrateToLatest } from './migrations/index.js'
import type { Database } from './schema.js'

export type DialectName = 'sqlite' | 'postgres'

export interface DatabaseHandle {
  readonly db: Kysely<Database>
  readonly dialect: DialectName
  close(): Promise<void>
}

export interface OpenDatabaseOptions {
  /** Apply pending migrations before returning (default true). */
  readonly migrate?: boolean
  /** Postgres only: the schema to use (sets `search_path`); it must exist. */
  readonly schema?: string
  /** SQLite only: how long a writer waits for a lock before SQLITE_BUSY (default 5000 ms). */
  readonly busyTimeoutMs?: number
  /** Postgres only: pool size (default 10). */
  readonly poolSize?: number
}

export type DatabaseLocation =
  | { readonly dialect: 'sqlite'; readonly path: string }
  | { readonly dialect: 'postgres'; readonly connectionString: string }

const MEMORY = ':memory:'
const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/
const PG_INT8 = 20

/** Parses a database URL; throws a RangeError naming what it expected. */
export function parseDatabaseUrl(url: string): DatabaseLocation {
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    return { dialect: 'postgres', connectionString: url }
  }
  if (url.startsWith('sqlite:')) {
    const rest = url.slice('sqlite:'.length)
    if (rest === MEMORY || rest === '//:memory:') return { dialect: 'sqlite', path: MEMORY }
    // sqlite:///abs/path → /abs/path; sqlite://rel/path and sqlite:rel/path → relative to the cwd
    const path = rest.startsWith('///') ? rest.slice(2) : rest.startsWith('//') ? rest.slice(2) : rest
    if (path !== '') return { dialect: 'sqlite', path: resolve(path) }
  }
  throw new RangeError(
    `database URL ${JSON.stringify(url)}: expected sqlite:///path/to/file.db, sqlite::memory: or postgres://…`,
  )
}

function openSqlite(path: string, options: OpenDatabaseOptions): Kysely<Database> {
  if (path !== MEMORY) mkdirSync(dirname(path), { recursive: true })
  const database = new SqliteDatabase(path)
  // WAL lets readers (API) and the writer (workers) proceed together; NORMAL sync is durable in WAL mode
  // except for the last transactions before a power cut, never corrupting.
  if (path !== MEMORY) database.pragma('journal_mode = WAL')
  database.pragma('synchronous = NORMAL')
  database.pragma(`busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? 5000)}`)
  return new Kysely<Database>({ dialect: new SqliteDialect({ database }) })
}

function openPostgres(connectionString: string, options: OpenDatabaseOptions): Kysely<Database> {
  if (options.schema !== undefined && !SCHEMA_NAME.test(options.schema)) {
    throw new RangeError(`database schema ${JSON.stringify(options.schema)} is not a plain identifier`)
  }
  const pool = new pg.Pool({
    connectionString,
    max: options.poolSize ?? 10,
    ...(options.schema === undefined ? {} : { options: `-c search_path=${options.schema}` }),
    // bigint columns hold epoch milliseconds and counts, all far below 2^53: read them as numbers
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === PG_INT8 && format !== 'binary'
          ? (value: string) => Number(value)
          : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  })
  // A connection the server drops (restart, failover, pg_terminate_backend) emits 'error', and without a
  // listener that crashes the process. The pool listens only while a connection is idle; one checked out
  // (a transaction between statements, Kysely holding it) has none, so each gets its own for life. The
  // pool drops a dead connection when it comes back, and the statement in flight fails on its own.
  pool.on('error', () => {})
  pool.on('connect', (client) => client.on('error', () => {}))
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) })
}

async function currentSchema(db: Kysely<Database>): Promise<string> {
  const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(db)
  const schema = rows[0]?.schema
  if (!schema) throw new Error('the Postgres search_path names no existing schema to keep the tables in')
  return schema
}

/** Opens (and by default migrates) the database at `url`. The caller closes it. */
export async function openDatabase(url: string, options: OpenDatabaseOptions = {}): Promise<DatabaseHandle> {
  const location = parseDatabaseUrl(url)
  const db =
    location.dialect === 'sqlite'
      ? openSqlite(location.path, options)
      : openPostgres(location.connectionString, options)
  try {
    if (options.migrate !== false) {
      // Kysely looks for its migration table in every schema unless told which: another schema's table (a
      // neighbour app on Kysely, a test schema left behind) would pass for ours and the migration would fail.
      const schema = location.dialect === 'postgres' ? await currentSchema(db) : undefined
      await migrateToLatest(db, schema)
    }
  } catch (error) {
    await db.destroy()
    throw error
  }
  return { db, dialect: location.dialect, close: () => db.destroy() }
}
