/**
 * The job queue over the records database (Kysely on SQLite or Postgres): durable jobs, leases, retries,
 * crash recovery and retention. Events and wake-ups are in-process; another process sees cancel requests
 * through its workers' heartbeats and finished jobs through `waitUntilFinished`'s polling.
 * @module
 */
import { randomBytes } from 'node:crypto'
import { type Kysely, sql, type Updateable } from 'kysely'
import { errors } from '../core/errors.js'
import type { GenerationRequest } from '../core/generation-request.js'
import { newId } from '../core/ids.js'
import { type Job, type JobError, type JobProgress, TERMINAL_STATES } from '../core/job.js'
import { type DatabaseHandle, type OpenDatabaseOptions, openDatabase } from '../db/connect.js'
import { type PageRequest, readPage } from '../db/cursor.js'
import type { Database, JobRow, JobsTable } from '../db/schema.js'
import { JobEventBus } from './job-event-bus.js'
import type {
  ClaimedJob,
  JobEvent,
  JobEventType,
  JobFilter,
  JobPage,
  JobQueue,
  QueueCounts,
} from './job-queue.js'
import { newJobRow, rowToJob } from './job-rows.js'
import * as statements from './job-statements.js'
import {
  type DbQueueOptions,
  type DbQueueSettings,
  normalizeQueueOptions,
  retryDelayMs,
} from './queue-options.js'
import { WorkSignal } from './work-signal.js'

export type { DbQueueOptions } from './queue-options.js'

interface LocalClaim {
  readonly lease: string
  readonly controller: AbortController
}

// any fixed number: serializes Postgres enqueues so the queue length limit is exact across processes
const ENQUEUE_LOCK = 72_697_110

export class DbQueue implements JobQueue {
  /** Identifies this process's claims; startup recovery treats other instances' running jobs as orphaned. */
  readonly instanceId: string
  readonly #handle: DatabaseHandle
  readonly #settings: DbQueueSettings
  readonly #bus: JobEventBus
  readonly #work = new WorkSignal()
  readonly #claims = new Map<string, LocalClaim>()
  #closed = false

  constructor(handle: DatabaseHandle, options: DbQueueOptions = {}) {
    this.#handle = handle
    this.#settings = normalizeQueueOptions(options, handle.dialect)
    this.instanceId = this.#settings.instanceId
    this.#bus = new JobEventBus({ eventsPerJob: this.#settings.replayEventsPerJob })
  }

  get #db() {
    return this.#handle.db
  }

  #now(): number {
    return this.#settings.clock()
  }

  // ── producer ──────────────────────────────────────────────────────────────────────────────────────

  async enqueue(request: GenerationRequest, options: { readonly maxAttempts?: number } = {}): Promise<Job> {
    const maxAttempts = options.maxAttempts ?? this.#settings.maxAttempts
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
      throw errors.VALIDATION_FAILED('maxAttempts must be a positive integer', { field: 'maxAttempts' })
    }
    const now = this.#now()
    const row = newJobRow(newId(now), request, maxAttempts, now)
    await this.#db.transaction().execute(async (trx) => {
      if (this.#handle.dialect === 'postgres')
        await sql`select pg_advisory_xact_lock(${ENQUEUE_LOCK})`.execute(trx)
      const queued = await statements.countQueued(trx)
      if (queued >= this.#settings.maxQueued) throw await this.#queueFull(trx, queued)
      await statements.insertJob(trx, row)
    })
    this.#emit('queued', row)
    this.#work.notify()
    return rowToJob(row)
  }

  // reads through the enqueue transaction: on SQLite it holds the only connection
  async #queueFull(trx: Kysely<Database>, queued: number) {
    const durations = await statements.recentDurations(trx, 20)
    const averageMs =
      durations.length === 0
        ? this.#settings.assumedJobMs
        : durations.reduce((sum, ms) => sum + ms, 0) / durations.length
    const retryAfterSeconds = Math.min(
      3600,
      Math.max(1, Math.ceil(averageMs / this.#settings.concurrency / 1000)),
    )
    return errors.QUEUE_FULL(`the queue is full (${queued} jobs waiting); retry in ${retryAfterSeconds} s`, {
      retryAfterSeconds,
      details: { queued, limit: this.#settings.maxQueued },
    })
  }

  async get(id: string): Promise<Job | null> {
    const row = await statements.selectJob(this.#db, id)
    return row === undefined ? null : rowToJob(row)
  }

  async list(filter: JobFilter, page: PageRequest): Promise<JobPage> {
    const { rows, nextCursor } = await readPage(page, (after, limit) =>
      statements.listJobs(this.#db, filter, limit, after),
    )
    return { jobs: rows.map(rowToJob), nextCursor }
  }

  async cancel(id: string): Promise<Job | null> {
    const now = this.#now()
    const canceled = await statements.updateJob(
      this.#db,
      id,
      { state: 'queued' },
      this.#finishValues('canceled', now),
      true,
    )
    if (canceled !== undefined) {
      this.#emit('canceled', canceled)
      return rowToJob(canceled)
    }
    const flagged = await statements.updateJob(
      this.#db,
      id,
      { state: 'running', cancelRequested: 0 },
      { cancel_requested: 1 },
      false,
    )
    if (flagged !== undefined) {
      this.#abortLocal(id, flagged.lease_token, 'cancel')
      return rowToJob(flagged)
    }
    return this.get(id)
  }

  async position(id: string): Promise<number | null> {
    const row = await statements.selectJob(this.#db, id)
    if (row === undefined || row.state !== 'queued') return null
    return statements.countAhead(this.#db, row)
  }

  async counts(): Promise<QueueCounts> {
    const { states, retried } = await statements.countByState(this.#db)
    const of = (state: string) => states.get(state) ?? 0
    return {
      queued: of('queued'),
      running: of('running'),
      succeeded: of('succeeded'),
      failed: of('failed'),
      canceled: of('canceled'),
      retried,
    }
  }

  async purge(): Promise<number> {
    const now = this.#now()
    const rows = await statements.cancelAllQueued(this.#db, now, now + this.#settings.retentionMs)
    for (const row of rows) this.#emit('canceled', row)
    return rows.length
  }

  // ── consumer ──────────────────────────────────────────────────────────────────────────────────────

  async claim(workerId: string, models?: readonly string[]): Promise<ClaimedJob | null> {
    if (this.#closed) return null
    const now = this.#now()
    const lease = randomBytes(16).toString('hex')
    const row = await statements.claimNext(this.#db, this.#handle.dialect, {
      now,
      lease,
      leaseExpiresAt: now + this.#settings.leaseMs,
      workerId,
      instanceId: this.instanceId,
      ...(models === undefined ? {} : { models }),
    })
    if (row === undefined) return null
    const controller = new AbortController()
    this.#claims.set(row.id, { lease, controller })
    this.#emit('started', row)
    return { job: rowToJob(row), lease, signal: controller.signal }
  }

  /**
   * Claims one named job for a dispatcher that already chose it (BullMQ): a queued job, or with `takeOver` a
   * running one whose worker the dispatcher found dead; its old lease is then lost, so the old worker can
   * no longer finish it. A taken-over job out of attempts fails with JOB_STALLED. Null when not claimable.
   */
  async claimJob(
    id: string,
    workerId: string,
    options: { readonly takeOver?: boolean } = {},
  ): Promise<ClaimedJob | null> {
    if (this.#closed) return null
    const before = await statements.selectJob(this.#db, id)
    if (before === undefined) return null
    const taking = before.state === 'running' && options.takeOver === true
    if (before.state !== 'queued' && !taking) return null
    const now = this.#now()
    if (taking && before.attempts >= before.max_attempts) {
      const stalled = {
        error_code: 'JOB_STALLED',
        error_message: 'the worker running this job stopped responding',
      }
      const lease = before.lease_token ?? ''
      await this.#finishLeased(
        id,
        lease,
        { ...this.#finishValues('failed', now), ...stalled },
        'failed',
      ).catch(() => null)
      return null
    }
    const lease = randomBytes(16).toString('hex')
    const values = {
      now,
      lease,
      leaseExpiresAt: now + this.#settings.leaseMs,
      workerId,
      instanceId: this.instanceId,
    }
    const row = await statements.claimById(
      this.#db,
      id,
      values,
      taking ? (before.lease_token ?? '') : undefined,
    )
    if (row === undefined) return null
    const controller = new AbortController()
    this.#claims.set(row.id, { lease, controller })
    this.#emit('started', row)
    return { job: rowToJob(row), lease, signal: controller.signal }
  }

  async progress(
    id: string,
    lease: string,
    progress: JobProgress,
    options: { readonly previewPng?: string } = {},
  ): Promise<void> {
    const values = {
      progress: JSON.stringify(progress),
      lease_expires_at: this.#now() + this.#settings.leaseMs,
    }
    const row = await statements.updateJob(this.#db, id, { state: 'running', lease }, values, true)
    if (row === undefined) throw this.#leaseLost(id, lease)
    this.#emit('progress', row, { progress, ...options })
    if (row.cancel_requested === 1) this.#abortLocal(id, lease, 'cancel')
  }

  async heartbeat(id: string, lease: string): Promise<{ readonly cancelRequested: boolean }> {
    const values = { lease_expires_at: this.#now() + this.#settings.leaseMs }
    const row = await statements.updateJob(this.#db, id, { state: 'running', lease }, values, false)
    if (row === undefined) throw this.#leaseLost(id, lease)
    const cancelRequested = row.cancel_requested === 1
    if (cancelRequested) this.#abortLocal(id, lease, 'cancel')
    return { cancelRequested }
  }

  async complete(id: string, lease: string, assetIds: readonly string[]): Promise<Job> {
    const values = {
      ...this.#finishValues('succeeded', this.#now()),
      asset_ids: JSON.stringify(assetIds),
      error_code: null,
      error_message: null,
    }
    return this.#finishLeased(id, lease, values, 'succeeded')
  }

  async fail(
    id: string,
    lease: string,
    error: JobError,
    options: { readonly retryable: boolean },
  ): Promise<Job> {
    const row = await statements.selectJob(this.#db, id)
    if (row === undefined || row.state !== 'running' || row.lease_token !== lease)
      throw this.#leaseLost(id, lease)
    const now = this.#now()
    const errorValues = { error_code: error.code, error_message: error.message }
    if (row.cancel_requested === 1)
      return this.#finishLeased(id, lease, this.#finishValues('canceled', now), 'canceled')
    if (options.retryable && row.attempts < row.max_attempts) {
      const availableAt = now + retryDelayMs(row.attempts, this.#settings.retryBackoffMs)
      return this.#requeueLeased(row, { ...errorValues, available_at: availableAt })
    }
    return this.#finishLeased(id, lease, { ...this.#finishValues('failed', now), ...errorValues }, 'failed')
  }

  async requeue(id: string, lease: string): Promise<Job> {
    const row = await statements.selectJob(this.#db, id)
    if (row === undefined || row.state !== 'running' || row.lease_token !== lease)
      throw this.#leaseLost(id, lease)
    const now = this.#now()
    if (row.cancel_requested === 1)
      return this.#finishLeased(id, lease, this.#finishValues('canceled', now), 'canceled')
    // an interrupted run is not the job's fault, so it does not use up an attempt
    return this.#requeueLeased(row, { attempts: Math.max(0, row.attempts - 1), available_at: now })
  }

  async acknowledgeCancel(id: string, lease: string): Promise<Job> {
    return this.#finishLeased(id, lease, this.#finishValues('canceled', this.#now()), 'canceled')
  }

  waitForWork(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (this.#closed) return Promise.resolve()
    return this.#work.wait(timeoutMs, signal)
  }

  // ── events ────────────────────────────────────────────────────────────────────────────────────────

  subscribe(jobId: string, listener: (event: JobEvent) => void, afterSeq?: number): () => void {
    return this.#bus.subscribe(jobId, listener, afterSeq)
  }

  async waitUntilFinished(jobId: string, timeoutMs: number): Promise<Job | null> {
    return new Promise<Job | null>((resolve) => {
      let done = false
      let unsubscribe = (): void => {}
      let timer: NodeJS.Timeout | undefined
      let poll: NodeJS.Timeout | undefined
      const finish = (job: Job | null): void => {
        if (done) return
        done = true
        clearTimeout(timer)
        clearInterval(poll)
        unsubscribe()
        resolve(job)
      }
      const lookUp = (onlyTerminal: boolean): void => {
        this.get(jobId).then(
          (job) => {
            if (!onlyTerminal || job === null || TERMINAL_STATES.has(job.state)) finish(job)
          },
          () => {
            if (!onlyTerminal) finish(null)
          },
        )
      }
      // replaying from 0 also catches a job that finished in this process just before we subscribed
      unsubscribe = this.#bus.subscribe(
        jobId,
        (event) => {
          if (TERMINAL_STATES.has(event.job.state)) finish(event.job)
        },
        0,
      )
      if (done) {
        unsubscribe()
        return
      }
      timer = setTimeout(() => lookUp(false), timeoutMs)
      // a worker in another process publishes nowhere we can hear, so look at the record now and then
      poll = setInterval(() => lookUp(true), this.#settings.finishPollMs)
      poll.unref()
      lookUp(true)
    })
  }

  // ── maintenance ───────────────────────────────────────────────────────────────────────────────────

  async recoverStale(now: Date = new Date(this.#now())): Promise<number> {
    const at = now.getTime()
    const foreignTo = this.#settings.exclusive ? this.instanceId : undefined
    let recovered = 0
    for (const row of await statements.selectStale(this.#db, at, foreignTo)) {
      const lease = row.lease_token ?? ''
      this.#abortLocal(row.id, lease, 'lease')
      const stalled = {
        error_code: 'JOB_STALLED',
        error_message: 'the worker running this job stopped responding',
      }
      let job: Job | null = null
      try {
        if (row.cancel_requested === 1) {
          job = await this.#finishLeased(row.id, lease, this.#finishValues('canceled', at), 'canceled')
        } else if (row.attempts < row.max_attempts) {
          job = await this.#requeueLeased(row, { ...stalled, available_at: at })
        } else {
          job = await this.#finishLeased(
            row.id,
            lease,
            { ...this.#finishValues('failed', at), ...stalled },
            'failed',
          )
        }
      } catch (error) {
        // a worker renewed or finished it between our read and write: not stale after all
        if (!(error instanceof Error && 'code' in error && error.code === 'JOB_LEASE_LOST')) throw error
      }
      if (job !== null) recovered++
    }
    return recovered
  }

  async expireFinished(
    now: Date = new Date(this.#now()),
  ): Promise<{ readonly jobs: number; readonly assetIds: readonly string[] }> {
    const rows = await statements.expireDue(this.#db, now.getTime())
    const assetIds = rows.flatMap((row) => JSON.parse(row.asset_ids) as string[])
    for (const row of rows) this.#bus.forget(row.id)
    return { jobs: rows.length, assetIds }
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#work.close()
    if (this.#settings.ownsDatabase) await this.#handle.close()
  }

  // ── helpers ───────────────────────────────────────────────────────────────────────────────────────

  #finishValues(state: 'succeeded' | 'failed' | 'canceled', now: number) {
    return {
      state,
      finished_at: now,
      expires_at: now + this.#settings.retentionMs,
      lease_token: null,
      lease_expires_at: null,
    }
  }

  async #finishLeased(
    id: string,
    lease: string,
    values: Updateable<JobsTable>,
    type: 'succeeded' | 'failed' | 'canceled',
  ): Promise<Job> {
    const row = await statements.updateJob(this.#db, id, { state: 'running', lease }, values, true)
    if (row === undefined) throw this.#leaseLost(id, lease)
    this.#claims.delete(id)
    this.#emit(type, row)
    return rowToJob(row)
  }

  async #requeueLeased(
    row: JobRow,
    values: {
      readonly available_at: number
      readonly attempts?: number
      readonly error_code?: string
      readonly error_message?: string
    },
  ): Promise<Job> {
    const lease = row.lease_token ?? ''
    const updated = await statements.updateJob(
      this.#db,
      row.id,
      { state: 'running', lease, cancelRequested: row.cancel_requested },
      {
        ...values,
        state: 'queued',
        progress: null,
        lease_token: null,
        lease_expires_at: null,
        worker_id: null,
        instance_id: null,
      },
      true,
    )
    if (updated === undefined) throw this.#leaseLost(row.id, lease)
    this.#claims.delete(row.id)
    this.#emit('requeued', updated)
    this.#work.notifyAt(values.available_at, this.#now())
    return rowToJob(updated)
  }

  #leaseLost(id: string, lease: string) {
    this.#abortLocal(id, lease, 'lease')
    return errors.JOB_LEASE_LOST(`job ${id} is no longer held by this lease`, { details: { jobId: id } })
  }

  /** Fires the claimed job's signal in this process, if this process holds that lease. */
  #abortLocal(id: string, lease: string | null, why: 'cancel' | 'lease'): void {
    const claim = this.#claims.get(id)
    if (claim === undefined || (lease !== null && claim.lease !== lease)) return
    if (why === 'lease') this.#claims.delete(id)
    if (claim.controller.signal.aborted) return
    claim.controller.abort(
      why === 'cancel'
        ? errors.JOB_CANCELED(`job ${id} was canceled`)
        : errors.JOB_LEASE_LOST(`job ${id} is no longer held by this worker`),
    )
  }

  #emit(type: JobEventType, row: JobRow, extra: Pick<JobEvent, 'progress' | 'previewPng'> = {}): void {
    const event = { seq: row.seq, type, job: rowToJob(row), ...extra }
    this.#bus.publish(event)
    this.#settings.onEvent(event)
  }
}

/** Opens the database at `url` and a queue that closes it. */
export async function openDbQueue(
  url: string,
  options: DbQueueOptions & { readonly database?: OpenDatabaseOptions } = {},
): Promise<DbQueue> {
  const handle = await openDatabase(url, options.database)
  return new DbQueue(handle, { ...options, ownsDatabase: true })
}
