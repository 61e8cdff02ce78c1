/**
 * The RunPod dialect's durable per-job state (`runpod_jobs`): the webhook, ttl and execution timeout a client
 * gave with a job, whether the dialect stopped the job for them, and its webhook's delivery. A row is `open`
 * while the job runs, `delivering` once it ended with a webhook to send, `closed` when nothing is left to do.
 * Every transition is one conditional statement, so processes sharing the database (Postgres) never both
 * deliver one webhook: an attempt begins only by claiming the row's lease.
 * @module
 */
import type { Kysely } from 'kysely'
import type { Database, RunPodJobRow } from '../../db/schema.js'

export type RunPodJobState = 'open' | 'delivering' | 'closed'
export type DeliveryOutcome = 'delivered' | 'gave-up'

export interface RunPodJobRecord {
  readonly jobId: string
  readonly state: RunPodJobState
  readonly webhook: string | null
  readonly ttlDeadline: number | null
  readonly executionTimeoutMs: number | null
  readonly timedOut: boolean
  /** The body to send for a job that never queued; undefined = render it from the job. */
  readonly payload: unknown
  readonly attempts: number
  readonly nextAttemptAt: number | null
  /** While in the future, a process is making an attempt. */
  readonly leaseUntil: number | null
  readonly outcome: DeliveryOutcome | null
  readonly lastError: string | null
}

export interface JobPromises {
  readonly webhook?: URL
  /** Epoch ms. */
  readonly ttlDeadline?: number
  readonly executionTimeoutMs?: number
}

/** What a failed attempt leads to: another one later, or none (gave up, or the lease was lost). */
export type AfterFailure = 'retry' | 'gave-up' | 'lost'

export interface RunPodJobStoreOptions {
  readonly clock?: () => number
}

function toRecord(row: RunPodJobRow): RunPodJobRecord {
  return {
    jobId: row.job_id,
    state: row.state as RunPodJobState,
    webhook: row.webhook,
    ttlDeadline: row.ttl_deadline === null ? null : Number(row.ttl_deadline),
    executionTimeoutMs: row.execution_timeout_ms === null ? null : Number(row.execution_timeout_ms),
    timedOut: row.timed_out === 1,
    payload: row.payload === null ? undefined : JSON.parse(row.payload),
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at === null ? null : Number(row.next_attempt_at),
    leaseUntil: row.lease_until === null ? null : Number(row.lease_until),
    outcome: row.outcome as DeliveryOutcome | null,
    lastError: row.last_error,
  }
}

const changed = (result: { numUpdatedRows: bigint }) => Number(result.numUpdatedRows) > 0

export class RunPodJobStore {
  readonly #db: Kysely<Database>
  readonly #clock: () => number

  constructor(db: Kysely<Database>, options: RunPodJobStoreOptions = {}) {
    this.#db = db
    this.#clock = options.clock ?? Date.now
  }

  /** Records a queued job's promises; it stays `open` until the job ends. */
  async add(jobId: string, promises: JobPromises): Promise<RunPodJobRecord> {
    const row: RunPodJobRow = {
      ...this.#blank(jobId, 'open'),
      webhook: promises.webhook?.href ?? null,
      ttl_deadline: promises.ttlDeadline ?? null,
      execution_timeout_ms: promises.executionTimeoutMs ?? null,
    }
    await this.#db.insertInto('runpod_jobs').values(row).execute()
    return toRecord(row)
  }

  /** Records a webhook for a job that is already over (a side job), with the body to send. */
  async addFinished(jobId: string, webhook: URL, payload: unknown): Promise<void> {
    await this.#db
      .insertInto('runpod_jobs')
      .values({
        ...this.#blank(jobId, 'delivering'),
        webhook: webhook.href,
        payload: JSON.stringify(payload),
        next_attempt_at: this.#clock(),
      })
      .execute()
  }

  async get(jobId: string): Promise<RunPodJobRecord | null> {
    const row = await this.#db
      .selectFrom('runpod_jobs')
      .selectAll()
      .where('job_id', '=', jobId)
      .executeTakeFirst()
    return row === undefined ? null : toRecord(row)
  }

  /** Every job still running or queued, oldest first. */
  async open(): Promise<RunPodJobRecord[]> {
    const rows = await this.#db
      .selectFrom('runpod_jobs')
      .selectAll()
      .where('state', '=', 'open')
      .orderBy('created_at')
      .execute()
    return rows.map(toRecord)
  }

  /** Webhooks to send that no process is sending now, soonest first, with when each next attempt is due. */
  async pending(limit = 100): Promise<{ readonly jobId: string; readonly nextAttemptAt: number }[]> {
    const now = this.#clock()
    const rows = await this.#db
      .selectFrom('runpod_jobs')
      .select(['job_id', 'next_attempt_at'])
      .where('state', '=', 'delivering')
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
      .orderBy('next_attempt_at')
      .limit(limit)
      .execute()
    return rows.map((row) => ({ jobId: row.job_id, nextAttemptAt: Number(row.next_attempt_at ?? now) }))
  }

  async isTimedOut(jobId: string): Promise<boolean> {
    const row = await this.#db
      .selectFrom('runpod_jobs')
      .select('timed_out')
      .where('job_id', '=', jobId)
      .executeTakeFirst()
    return row?.timed_out === 1
  }

  /** Marks an open job as stopped for its policy, before it is canceled, so its end reads TIMED_OUT. */
  async markTimedOut(jobId: string): Promise<void> {
    await this.#db
      .updateTable('runpod_jobs')
      .set({ timed_out: 1 })
      .where('job_id', '=', jobId)
      .where('state', '=', 'open')
      .execute()
  }

  /**
   * The job ended: an open row moves to `delivering` (it has a webhook) or `closed`. Returns the new state,
   * or null when the row was not open (another process or an earlier call got there first).
   */
  async finish(jobId: string): Promise<RunPodJobState | null> {
    const now = this.#clock()
    const toDeliver = await this.#db
      .updateTable('runpod_jobs')
      .set({ state: 'delivering', next_attempt_at: now })
      .where('job_id', '=', jobId)
      .where('state', '=', 'open')
      .where('webhook', 'is not', null)
      .executeTakeFirst()
    if (changed(toDeliver)) return 'delivering'
    const toClose = await this.#db
      .updateTable('runpod_jobs')
      .set({ state: 'closed', closed_at: now })
      .where('job_id', '=', jobId)
      .where('state', '=', 'open')
      .executeTakeFirst()
    return changed(toClose) ? 'closed' : null
  }

  /**
   * Begins a delivery attempt: takes the lease on a due, unleased webhook with attempts left and counts the
   * attempt. Null when it is not due, another process holds it, or it is settled.
   */
  async claim(
    jobId: string,
    owner: string,
    leaseMs: number,
    maxAttempts: number,
  ): Promise<RunPodJobRecord | null> {
    const now = this.#clock()
    const row = await this.#db
      .updateTable('runpod_jobs')
      .set((eb) => ({
        lease_owner: owner,
        lease_until: now + leaseMs,
        attempts: eb('attempts', '+', 1),
      }))
      .where('job_id', '=', jobId)
      .where('state', '=', 'delivering')
      .where('next_attempt_at', '<=', now)
      .where('attempts', '<', maxAttempts)
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
      .returningAll()
      .executeTakeFirst()
    return row === undefined ? null : toRecord(row)
  }

  /** Settles a claimed webhook as delivered; false when the lease had passed to another process. */
  async delivered(jobId: string, owner: string): Promise<boolean> {
    return this.#settle(jobId, owner, 'delivered', null)
  }

  /** Settles a claimed webhook that cannot be sent at all (its job is gone). */
  async giveUp(jobId: string, owner: string, error: string): Promise<boolean> {
    return this.#settle(jobId, owner, 'gave-up', error)
  }

  /** Records a failed attempt: another one after `retryDelayMs` while attempts are left, else gives up. */
  async failed(
    jobId: string,
    owner: string,
    error: string,
    policy: { readonly maxAttempts: number; readonly retryDelayMs: number },
  ): Promise<AfterFailure> {
    const now = this.#clock()
    const retry = await this.#db
      .updateTable('runpod_jobs')
      .set({
        next_attempt_at: now + policy.retryDelayMs,
        lease_owner: null,
        lease_until: null,
        last_error: error,
      })
      .where('job_id', '=', jobId)
      .where('state', '=', 'delivering')
      .where('lease_owner', '=', owner)
      .where('attempts', '<', policy.maxAttempts)
      .executeTakeFirst()
    if (changed(retry)) return 'retry'
    return (await this.#settle(jobId, owner, 'gave-up', error)) ? 'gave-up' : 'lost'
  }

  /**
   * Gives up webhooks whose last attempt began and never reported (its process died mid-attempt): the
   * receiver may have it, and no attempts are left to find out. Returns their ids.
   */
  async abandonInterrupted(maxAttempts: number): Promise<string[]> {
    const now = this.#clock()
    const rows = await this.#db
      .updateTable('runpod_jobs')
      .set({
        state: 'closed',
        outcome: 'gave-up',
        last_error: 'the last attempt was interrupted',
        lease_owner: null,
        lease_until: null,
        closed_at: now,
      })
      .where('state', '=', 'delivering')
      .where('attempts', '>=', maxAttempts)
      .where('lease_until', '<', now)
      .returning('job_id')
      .execute()
    return rows.map((row) => row.job_id)
  }

  /** Deletes rows closed before `before` (epoch ms); returns how many. */
  async prune(before: number): Promise<number> {
    const result = await this.#db
      .deleteFrom('runpod_jobs')
      .where('state', '=', 'closed')
      .where('closed_at', '<', before)
      .executeTakeFirst()
    return Number(result.numDeletedRows)
  }

  async #settle(
    jobId: string,
    owner: string,
    outcome: DeliveryOutcome,
    error: string | null,
  ): Promise<boolean> {
    const now = this.#clock()
    const result = await this.#db
      .updateTable('runpod_jobs')
      .set({
        state: 'closed',
        outcome,
        closed_at: now,
        lease_owner: null,
        lease_until: null,
        ...(error === null ? {} : { last_error: error }),
      })
      .where('job_id', '=', jobId)
      .where('state', '=', 'delivering')
      .where('lease_owner', '=', owner)
      .executeTakeFirst()
    return changed(result)
  }

  #blank(jobId: string, state: RunPodJobState): RunPodJobRow {
    return {
      job_id: jobId,
      state,
      webhook: null,
      ttl_deadline: null,
      execution_timeout_ms: null,
      timed_out: 0,
      payload: null,
      attempts: 0,
      next_attempt_at: null,
      lease_owner: null,
      lease_until: null,
      outcome: null,
      last_error: null,
      created_at: this.#clock(),
      closed_at: null,
    }
  }
}
