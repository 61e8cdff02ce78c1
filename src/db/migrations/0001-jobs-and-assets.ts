/**
 * The first schema: jobs and their image assets. Written with Kysely's schema builder and only portable
 * column types, so it runs unchanged on SQLite and Postgres.
 * @module
 */
import type { Kysely } from 'kysely'

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('jobs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('request', 'text', (c) => c.notNull())
    .addColumn('priority', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('max_attempts', 'integer', (c) => c.notNull())
    .addColumn('progress', 'text')
    .addColumn('error_code', 'text')
    .addColumn('error_message', 'text')
    .addColumn('asset_ids', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('owner_key_id', 'text')
    .addColumn('model', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('started_at', 'bigint')
    .addColumn('finished_at', 'bigint')
    .addColumn('expires_at', 'bigint')
    .addColumn('available_at', 'bigint', (c) => c.notNull())
    .addColumn('lease_token', 'text')
    .addColumn('lease_expires_at', 'bigint')
    .addColumn('worker_id', 'text')
    .addColumn('instance_id', 'text')
    .addColumn('cancel_requested', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('seq', 'integer', (c) => c.notNull().defaultTo(0))
    .execute()
  // claim: the next queued job by priority, then age
  await db.schema
    .createIndex('jobs_claim_order')
    .on('jobs')
    .columns(['state', 'priority desc', 'created_at', 'id'])
    .execute()
  await db.schema
    .createIndex('jobs_owner_created')
    .on('jobs')
    .columns(['owner_key_id', 'created_at'])
    .execute()
  await db.schema.createIndex('jobs_state_expires').on('jobs').columns(['state', 'expires_at']).execute()

  await db.schema
    .createTable('assets')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('job_id', 'text', (c) => c.notNull())
    .addColumn('owner_key_id', 'text')
    .addColumn('storage_key', 'text', (c) => c.notNull())
    .addColumn('image_index', 'integer', (c) => c.notNull())
    .addColumn('model', 'text', (c) => c.notNull())
    .addColumn('seed', 'bigint', (c) => c.notNull())
    .addColumn('width', 'integer', (c) => c.notNull())
    .addColumn('height', 'integer', (c) => c.notNull())
    .addColumn('format', 'text', (c) => c.notNull())
    .addColumn('bytes', 'bigint', (c) => c.notNull())
    .addColumn('sha256', 'text', (c) => c.notNull())
    .addColumn('parameters', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint')
    .execute()
  await db.schema.createIndex('assets_job').on('assets').columns(['job_id', 'image_index']).execute()
  await db.schema
    .createIndex('assets_owner_created')
    .on('assets')
    .columns(['owner_key_id', 'created_at'])
    .execute()
  await db.schema.createIndex('assets_expires').on('assets').column('expires_at').execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('assets').execute()
  await db.schema.dropTable('jobs').execute()
}
