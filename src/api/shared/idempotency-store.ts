/**
 * The `idempotency_keys` table: one row per (API key, Idempotency-Key), pending until the first request's job
 * exists, then naming that job. Every write is one conditional statement, so API processes sharing the
 * database (Postgres) agree on which request made the job.
 * @module
 */
import type { Kysely } from 'kysely'
import type { Database } from '../../db/schema.js'

export interface IdempotencyRecord {
  readonly fingerprint: string
  /** null while the request that claimed the key is still creating its job. */
  readonly jobId: string | null
  readonly createdAt: number
}

export interface IdempotencyRef {
  readonly scope: string
  readonly key: string
}

export class IdempotencyStore {
  readonly #db: Kysely<Database>

  constructor(db: Kysely<Database>) {
    this.#db = db
  }

  /** Claims the key for a new request: null when this call claimed it, else the record already there. */
  async claim(
    ref: IdempotencyRef,
    fingerprint: string,
    now: number,
    expiresAt: number,
  ): Promise<IdempotencyRecord | null> {
    const inserted = await this.#db
      .insertInto('idempotency_keys')
      .values({ ...ref, fingerprint, job_id: null, created_at: now, expires_at: expiresAt })
      .onConflict((conflict) => conflict.columns(['scope', 'key']).doNothing())
      .executeTakeFirst()
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 1) return null
    const row = await this.#db
      .selectFrom('idempotency_keys')
      .select(['fingerprint', 'job_id', 'created_at'])
      .where('scope', '=', ref.scope)
      .where('key', '=', ref.key)
      .executeTakeFirst()
    // Removed between the two statements (released or swept): claim again.
    if (row === undefined) return this.claim(ref, fingerprint, now, expiresAt)
    return { fingerprint: row.fingerprint, jobId: row.job_id, createdAt: Number(row.created_at) }
  }

  /** Names the job the claiming request made. */
  async attach(ref: IdempotencyRef, jobId: string): Promise<void> {
    await this.#db
      .updateTable('idempotency_keys')
      .set({ job_id: jobId })
      .where('scope', '=', ref.scope)
      .where('key', '=', ref.key)
      .where('job_id', 'is', null)
      .execute()
  }

  /** Removes the record if it is still the one seen: pending since `createdAt`, or naming `jobId`. */
  async release(ref: IdempotencyRef, seen: { readonly jobId: string | null; readonly createdAt: number }) {
    let query = this.#db
      .deleteFrom('idempotency_keys')
      .where('scope', '=', ref.scope)
      .where('key', '=', ref.key)
      .where('created_at', '=', seen.createdAt)
    query = seen.jobId === null ? query.where('job_id', 'is', null) : query.where('job_id', '=', seen.jobId)
    await query.execute()
  }

  /** Removes records past their time whose job is gone or expired (retention), or that never got one. */
  async sweep(now: number): Promise<void> {
    await this.#db
      .deleteFrom('idempotency_keys')
      .where('expires_at', '<', now)
      .where((eb) =>
        eb.or([
          eb('job_id', 'is', null),
          eb.not(
            eb.exists(
              eb
                .selectFrom('jobs')
                .select('jobs.id')
                .whereRef('jobs.id', '=', 'idempotency_keys.job_id')
                .where('jobs.state', '<>', 'expired'),
            ),
          ),
        ]),
      )
      .execute()
  }
}
