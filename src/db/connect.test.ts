import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { sql } from 'kysely'
import pg from 'pg'
import { afterEach, describe, expect, it } from 'vitest'
import { openDatabase, parseDatabaseUrl } from './connect.js'
import { migrateToLatest } from './migrations/index.js'
import { openTestDatabase, postgresReachable, TEST_POSTGRES_URL } from './test-databases.js'

describe('parseDatabaseUrl', () => {
  it('reads the SQLite and Postgres forms', () => {
    expect(parseDatabaseUrl('sqlite::memory:')).toEqual({ dialect: 'sqlite', path: ':memory:' })
    expect(parseDatabaseUrl('sqlite:///var/lib/pigment/pigment.db')).toEqual({
      dialect: 'sqlite',
      path: '/var/lib/pigment/pigment.db',
    })
    expect(parseDatabaseUrl('sqlite:data/pigment.db')).toEqual({
      dialect: 'sqlite',
      path: resolve('data/pigment.db'),
    })
    expect(parseDatabaseUrl('postgres://u@h:5432/db')).toEqual({
      dialect: 'postgres',
      connectionString: 'postgres://u@h:5432/db',
    })
  })

  it('rejects anything else with a message naming the accepted forms', () => {
    for (const bad of ['mysql://x', 'sqlite:', '/tmp/x.db', '']) {
      expect(() => parseDatabaseUrl(bad)).toThrow(/expected sqlite:\/\/\/path/)
    }
  })
})

describe('openDatabase on a SQLite file', () => {
  let dir: string | undefined
  afterEach(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
  })

  it('creates the folder, uses WAL, migrates once and keeps rows across reopen', async () => {
    dir = mkdtempSync(join(tmpdir(), 'pigment-db-'))
    const url = `sqlite://${join(dir, 'nested', 'pigment.db')}`
    const first = await openDatabase(url)
    const mode = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(first.db)
    expect(mode.rows[0].journal_mode).toBe('wal')
    await first.db
      .insertInto('jobs')
      .values({
        id: 'j1',
        state: 'queued',
        request: '{}',
        priority: 0,
        attempts: 0,
        max_attempts: 3,
        progress: null,
        error_code: null,
        error_message: null,
        asset_ids: '[]',
        owner_key_id: null,
        model: 'm',
        created_at: 1,
        started_at: null,
        finished_at: null,
        expires_at: null,
        available_at: 1,
        lease_token: null,
        lease_expires_at: null,
        worker_id: null,
        instance_id: null,
        cancel_requested: 0,
        seq: 1,
      })
      .execute()
    await first.close()
    const second = await openDatabase(url)
    expect(await migrateToLatest(second.db)).toEqual([])
    expect((await second.db.selectFrom('jobs').select('id').execute()).map((r) => r.id)).toEqual(['j1'])
    await second.close()
  })
})

describe('openDatabase on Postgres beside another schema that uses Kysely', async () => {
  const reachable = await postgresReachable()

  it.skipIf(!reachable)(
    "migrates its own schema when another schema holds Kysely's bookkeeping tables",
    async () => {
      const decoy = `pigment_decoy_${randomBytes(4).toString('hex')}`
      const admin = new pg.Client({ connectionString: TEST_POSTGRES_URL })
      await admin.connect()
      try {
        await admin.query(`create schema ${decoy}`)
        await admin.query(
          `create table ${decoy}.kysely_migration (name varchar(255) primary key, timestamp varchar(255))`,
        )
        await admin.query(
          `create table ${decoy}.kysely_migration_lock (id varchar(255) primary key, is_locked integer)`,
        )
        const handle = await openTestDatabase('postgres')
        try {
          const { rows } = await sql<{ n: number }>`select count(*)::int as n from jobs`.execute(handle.db)
          expect(rows[0].n).toBe(0)
        } finally {
          await handle.close()
        }
      } finally {
        await admin.query(`drop schema if exists ${decoy} cascade`)
        await admin.end()
      }
    },
  )
})
