/**
 * API keys (only a hash of each secret is stored), credit charges (one per submitted job: the reservation,
 * its settlement and the usage it records) and the credit ledger (every change to a balance, so a balance
 * can be reconciled with its history). Amounts are integer milli-credits, so sums never drift.
 * @module
 */
import type { Kysely } from 'kysely'

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('api_keys')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('secret_hash', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('last_used_at', 'bigint')
    .addColumn('expires_at', 'bigint')
    .addColumn('revoked_at', 'bigint')
    .addColumn('credits_milli', 'bigint')
    .addColumn('rpm', 'integer')
    .addColumn('concurrency', 'integer')
    .addColumn('active_jobs', 'integer', (c) => c.notNull().defaultTo(0))
    .execute()

  await db.schema
    .createTable('credit_charges')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('key_id', 'text')
    .addColumn('job_id', 'text')
    .addColumn('model', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('reserved_milli', 'bigint', (c) => c.notNull())
    .addColumn('charged_milli', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('debited', 'integer', (c) => c.notNull())
    .addColumn('counted', 'integer', (c) => c.notNull())
    .addColumn('outcome', 'text')
    .addColumn('images', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('pixel_steps', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('finished_at', 'bigint')
    .execute()
  await db.schema
    .createIndex('credit_charges_state')
    .on('credit_charges')
    .columns(['state', 'created_at'])
    .execute()
  await db.schema.createIndex('credit_charges_job').on('credit_charges').column('job_id').execute()
  await db.schema
    .createIndex('credit_charges_key_finished')
    .on('credit_charges')
    .columns(['key_id', 'finished_at'])
    .execute()

  await db.schema
    .createTable('credit_ledger')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('key_id', 'text', (c) => c.notNull())
    .addColumn('charge_id', 'text')
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('amount_milli', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute()
  await db.schema
    .createIndex('credit_ledger_key')
    .on('credit_ledger')
    .columns(['key_id', 'created_at'])
    .execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('credit_ledger').execute()
  await db.schema.dropTable('credit_charges').execute()
  await db.schema.dropTable('api_keys').execute()
}
