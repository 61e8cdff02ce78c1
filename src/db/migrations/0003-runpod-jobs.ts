/**
 * What the RunPod dialect promised a client about a job beyond Pigment's own lifecycle (its `webhook`,
 * `policy.ttl`, `policy.executionTimeout`) and how far the webhook's delivery got, so both outlive the process
 * that accepted the job. Portable column types only, as in 0001.
 * @module
 */
import type { Kysely } from 'kysely'

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('runpod_jobs')
    .addColumn('job_id', 'text', (c) => c.primaryKey())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('webhook', 'text')
    .addColumn('ttl_deadline', 'bigint')
    .addColumn('execution_timeout_ms', 'bigint')
    .addColumn('timed_out', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('payload', 'text')
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'bigint')
    .addColumn('lease_owner', 'text')
    .addColumn('lease_until', 'bigint')
    .addColumn('outcome', 'text')
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('closed_at', 'bigint')
    .execute()
  await db.schema
    .createIndex('runpod_jobs_state')
    .on('runpod_jobs')
    .columns(['state', 'next_attempt_at'])
    .execute()
  await db.schema.createIndex('runpod_jobs_closed').on('runpod_jobs').column('closed_at').execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('runpod_jobs').execute()
}
