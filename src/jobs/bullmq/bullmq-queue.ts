/**
 * The fleet's JobQueue: records (and every lease-guarded transition) stay in the database through
 * `DbQueue`, so Postgres is the one truth about a job; BullMQ on Redis only decides which worker runs what
 * (`dispatcher.ts`), and Redis pub/sub carries events and cancel requests between processes
 * (`event-relay.ts`). Losing Redis therefore loses no job: `reconcile` writes the tickets again and the
 * database leases recover runs whose worker vanished. A worker process announces a job's end only after
 * `onJobEnded` settled what depends on it (the credit charge), so no API process answers ahead of it.
 * @module
 */
import { sql } from 'kysely'
import type { GenerationRequest } from '../../core/generation-request.js'
import { type Job, type JobError, type JobProgress, TERMINAL_STATES } from '../../core/job.js'
import type { DatabaseHandle } from '../../db/connect.js'
import { DbQueue, type DbQueueOptions } from '../db-queue.js'
import type { ClaimedJob, JobEvent, JobFilter, JobPage, JobQueue, QueueCounts } from '../job-queue.js'
import { listJobs } from '../job-statements.js'
import { Dispatcher } from './dispatcher.js'
import { EventRelay } from './event-relay.js'
import { DEFAULT_FLEET_PREFIX, type FleetNames, fleetNames } from './fleet-names.js'
import { commandClient, durableClient, type RedisClient } from './redis-clients.js'

export interface BullmqQueueOptions extends Omit<DbQueueOptions, 'onEvent' | 'ownsDatabase'> {
  readonly redisUrl: string
  /** Namespace of every Redis key and channel (default `pigment`). */
  readonly prefix?: string
  /** Hear other processes' events (API processes); workers only publish (default true). */
  readonly subscribeEvents?: boolean
  /** Records queued at least this long without a ticket get one from `reconcile` (default 2000 ms). */
  readonly reconcileAfterMs?: number
  /** Told about Redis errors that were survived (lost events, tickets left to `reconcile`). */
  readonly onRedisError?: (error: unknown, during: string) => void
  /**
   * Runs when a transition made in this process ends a job (complete, fail, cancel, recovery …), before
   * that transition's event goes out on Redis, so whatever it settles (a worker process settles the job's
   * credit charge) is settled by the time another process hears that the job ended. It reports its own
   * errors: a rejection does not hold the event back.
   */
  readonly onJobEnded?: (job: Job) => Promise<void>
}

const RECONCILE_BATCH = 1000
// BullMQ waits for a reconnecting Redis; a submission should not wait with it
const DISPATCH_TIMEOUT_MS = 2000

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer from Redis within ${ms} ms`)), ms)
  })
  return Promise.race([promise, late]).finally(() => clearTimeout(timer))
}

export class BullmqQueue implements JobQueue {
  readonly names: FleetNames
  readonly redisUrl: string
  readonly records: DbQueue
  readonly dispatcher: Dispatcher
  /** For commands (tickets, publishing, worker adverts); fails fast while Redis is down. */
  readonly redis: RedisClient
  readonly #handle: DatabaseHandle
  readonly #relay: EventRelay
  readonly #subscriber: RedisClient | null
  readonly #options: BullmqQueueOptions
  readonly #clock: () => number
  /** Hooks of ended jobs whose events wait for them; `close` lets them go out first. */
  readonly #ending = new Set<Promise<void>>()
  #closed = false

  constructor(handle: DatabaseHandle, options: BullmqQueueOptions) {
    this.#handle = handle
    this.#options = options
    this.#clock = options.clock ?? Date.now
    this.names = fleetNames(options.prefix ?? DEFAULT_FLEET_PREFIX)
    this.redisUrl = options.redisUrl
    this.redis = commandClient(options.redisUrl)
    this.redis.on('error', () => {})
    this.#subscriber = options.subscribeEvents === false ? null : durableClient(options.redisUrl)
    this.#subscriber?.on('error', () => {})
    this.#relay = new EventRelay({
      publisher: this.redis,
      subscriber: this.#subscriber,
      channel: this.names.eventsChannel,
      ...(options.replayEventsPerJob === undefined ? {} : { eventsPerJob: options.replayEventsPerJob }),
      onError: (error) => this.#options.onRedisError?.(error, 'publishing an event'),
    })
    this.records = new DbQueue(handle, {
      ...options,
      ownsDatabase: false,
      // this process hears its own events at once; the echo through Redis is dropped by sequence number
      onEvent: (event) => {
        this.#relay.bus.publish(event)
        this.#relayEvent(event)
      },
    })
    this.dispatcher = new Dispatcher({
      connection: this.redis,
      names: this.names,
      ticketAttempts: (options.maxAttempts ?? 3) + 3,
      retryBackoffMs: options.retryBackoffMs ?? 1000,
    })
  }

  /** Subscribes to the events channel; call once before serving. */
  async start(): Promise<void> {
    await this.#relay.start()
  }

  #relayEvent(event: JobEvent): void {
    const onJobEnded = this.#options.onJobEnded
    if (onJobEnded === undefined || !TERMINAL_STATES.has(event.job.state)) {
      this.#relay.publish(event)
      return
    }
    const publish = () => this.#relay.publish(event)
    const ending = onJobEnded(event.job).then(publish, publish)
    this.#ending.add(ending)
    void ending.finally(() => this.#ending.delete(ending))
  }

  // ── producer ──────────────────────────────────────────────────────────────────────────────────────

  async enqueue(request: GenerationRequest, options?: { readonly maxAttempts?: number }): Promise<Job> {
    const job = await this.records.enqueue(request, options)
    // the record is accepted either way; without Redis its ticket is written by the next reconcile
    await withTimeout(
      this.dispatcher.dispatch({ id: job.id, model: request.model, priority: job.priority }),
      DISPATCH_TIMEOUT_MS,
    ).catch((error: unknown) => this.#options.onRedisError?.(error, 'dispatching a job'))
    return job
  }

  get(id: string): Promise<Job | null> {
    return this.records.get(id)
  }

  list(
    filter: JobFilter,
    page: { readonly limit: number; readonly cursor?: string | null },
  ): Promise<JobPage> {
    return this.records.list(filter, page)
  }

  async cancel(id: string): Promise<Job | null> {
    const job = await this.records.cancel(id)
    if (job?.state === 'canceled') await this.dispatcher.withdraw(job.request.model, id)
    if (job?.state === 'running' && job.cancelRequested === true) {
      // the worker also sees the flag at its next heartbeat; this makes it stop at its next step instead
      await this.redis
        .publish(this.names.cancelChannel, id)
        .catch((error: unknown) => this.#options.onRedisError?.(error, 'publishing a cancel'))
    }
    return job
  }

  position(id: string): Promise<number | null> {
    return this.records.position(id)
  }

  counts(): Promise<QueueCounts> {
    return this.records.counts()
  }

  purge(): Promise<number> {
    return this.records.purge()
  }

  // ── consumer ──────────────────────────────────────────────────────────────────────────────────────

  claim(workerId: string, models?: readonly string[]): Promise<ClaimedJob | null> {
    return this.records.claim(workerId, models)
  }

  /** Claims the record a ticket names; `takeOver` a running one whose worker BullMQ found stalled. */
  claimJob(
    id: string,
    workerId: string,
    options?: { readonly takeOver?: boolean },
  ): Promise<ClaimedJob | null> {
    return this.records.claimJob(id, workerId, options)
  }

  progress(id: string, lease: string, progress: JobProgress, options?: { readonly previewPng?: string }) {
    return this.records.progress(id, lease, progress, options)
  }

  heartbeat(id: string, lease: string): Promise<{ readonly cancelRequested: boolean }> {
    return this.records.heartbeat(id, lease)
  }

  complete(id: string, lease: string, assetIds: readonly string[]): Promise<Job> {
    return this.records.complete(id, lease, assetIds)
  }

  fail(id: string, lease: string, error: JobError, options: { readonly retryable: boolean }): Promise<Job> {
    return this.records.fail(id, lease, error, options)
  }

  requeue(id: string, lease: string): Promise<Job> {
    return this.records.requeue(id, lease)
  }

  acknowledgeCancel(id: string, lease: string): Promise<Job> {
    return this.records.acknowledgeCancel(id, lease)
  }

  waitForWork(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    return this.records.waitForWork(timeoutMs, signal)
  }

  // ── events ────────────────────────────────────────────────────────────────────────────────────────

  subscribe(jobId: string, listener: (event: JobEvent) => void, afterSeq?: number): () => void {
    return this.#relay.bus.subscribe(jobId, listener, afterSeq)
  }

  /** The relayed events settle it early; the records' own polling covers events lost with Redis. */
  waitUntilFinished(jobId: string, timeoutMs: number): Promise<Job | null> {
    return new Promise((resolve) => {
      let done = false
      let stop = (): void => {}
      const finish = (job: Job | null): void => {
        if (done) return
        done = true
        stop()
        resolve(job)
      }
      stop = this.#relay.bus.subscribe(
        jobId,
        (event) => {
          if (TERMINAL_STATES.has(event.job.state)) finish(event.job)
        },
        0,
      )
      if (done) stop()
      this.records.waitUntilFinished(jobId, timeoutMs).then(finish, () => finish(null))
    })
  }

  // ── maintenance ───────────────────────────────────────────────────────────────────────────────────

  recoverStale(now?: Date): Promise<number> {
    return this.records.recoverStale(now)
  }

  expireFinished(now?: Date): Promise<{ readonly jobs: number; readonly assetIds: readonly string[] }> {
    return this.records.expireFinished(now)
  }

  /**
   * Gives a ticket to every record queued longer than `reconcileAfterMs` (tickets that exist are kept as
   * they are). Returns how many records it looked at.
   */
  async reconcile(): Promise<number> {
    const before = this.#clock() - (this.#options.reconcileAfterMs ?? 2000)
    const rows = await listJobs(
      this.#handle.db,
      { state: 'queued', createdBefore: new Date(before) },
      RECONCILE_BATCH,
      null,
    )
    // a record still backing off after a failed run gets its ticket once the backoff is over
    const due = rows.filter((row) => row.available_at <= this.#clock())
    if (due.length === 0) return 0
    await this.dispatcher.dispatchMany(due.map((r) => ({ id: r.id, model: r.model, priority: r.priority })))
    return due.length
  }

  /** Resolves when the records database answers (for a worker waiting out an outage). */
  async probeRecords(): Promise<void> {
    await sql`select 1`.execute(this.#handle.db)
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.records.close()
    await Promise.all([...this.#ending])
    await this.#relay.stop()
    await this.dispatcher.close().catch(() => {})
    this.#subscriber?.disconnect()
    this.redis.disconnect()
  }
}

/** Opens a queue over an open database; the caller closes the database after the queue. */
export async function openBullmqQueue(
  handle: DatabaseHandle,
  options: BullmqQueueOptions,
): Promise<BullmqQueue> {
  const queue = new BullmqQueue(handle, options)
  await queue.start()
  return queue
}
