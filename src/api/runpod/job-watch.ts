/**
 * What RunPod promises about a queued job beyond Pigment's own lifecycle: `policy.executionTimeout` (stop a
 * job that runs too long), `policy.ttl` (stop a job not finished that long after submission), both ending
 * TIMED_OUT, and `webhook` (POST the final status when the job ends, retried as RunPod does).
 *
 * The promises and the delivery's progress live in the database (`job-store.ts`); this process only keeps
 * what it can rebuild from there: timers for the nearest deadline, job event subscriptions, the wait before
 * a retry. A periodic sweep rebuilds them after a restart and picks up work other processes sharing the
 * database left behind; a webhook is sent only by the process that claimed it, so at least once and, short of
 * a crash mid-attempt, exactly once.
 * @module
 */
import type { FastifyBaseLogger } from 'fastify'
import { newId } from '../../core/ids.js'
import { type Job, TERMINAL_STATES } from '../../core/job.js'
import type { JobEvents, JobProducer } from '../../jobs/job-queue.js'
import type { RunPodJobRecord, RunPodJobStore } from './job-store.js'
import { maxAttempts, postWebhook, type WebhookPolicy } from './webhook.js'
import type { WebhookTargets } from './webhook-targets.js'

export interface WatchOptions {
  readonly webhook?: URL
  readonly executionTimeoutMs?: number
  readonly ttlMs?: number
}

export interface JobWatchSettings {
  readonly jobs: JobProducer & JobEvents
  readonly store: RunPodJobStore
  /** The body RunPod sends to a webhook: the job's final status. */
  readonly render: (job: Job) => Promise<unknown>
  readonly logger: FastifyBaseLogger
  readonly webhookPolicy: WebhookPolicy
  /** Which addresses a webhook may reach (checked again on every delivery). */
  readonly webhookTargets: WebhookTargets
  /** How long a settled job keeps its row, and so reads TIMED_OUT when it was stopped (the retention). */
  readonly rememberMs: number
  /** How often the database is read for deadlines, due retries and other processes' leftovers. */
  readonly sweepMs: number
  readonly clock?: () => number
}

/** setTimeout's longest wait; a later deadline is re-armed when this one fires. */
const MAX_TIMER_MS = 2 ** 31 - 1
/** A lease outlives its attempt's timeout by this much, for rendering the body and writing the outcome. */
const LEASE_MARGIN_MS = 5_000

interface Tracker {
  readonly record: RunPodJobRecord
  timer: NodeJS.Timeout | undefined
  unsubscribe: () => void
}

export class JobWatch {
  readonly #settings: JobWatchSettings
  readonly #clock: () => number
  /** Names this process on the leases it takes. */
  readonly #owner = newId()
  readonly #tracked = new Map<string, Tracker>()
  readonly #stopping = new Set<string>()
  readonly #deliveries = new Map<string, Promise<void>>()
  readonly #retries = new Map<string, NodeJS.Timeout>()
  #sweeper: NodeJS.Timeout | undefined
  #sweeping: Promise<void> | undefined
  #closed = false

  constructor(settings: JobWatchSettings) {
    this.#settings = settings
    this.#clock = settings.clock ?? Date.now
  }

  /** Sweeps now and then every `sweepMs`: resumes what a previous process left and what others drop. */
  start(): void {
    if (this.#sweeper !== undefined || this.#closed) return
    void this.sweep()
    this.#sweeper = setInterval(() => void this.sweep(), this.#settings.sweepMs).unref()
  }

  /** True when this dialect stopped the job for its execution policy. */
  async isTimedOut(id: string): Promise<boolean> {
    return this.#settings.store.isTimedOut(id)
  }

  /** Records a queued job's promises (durably, before the client hears the job was accepted) and follows it. */
  async watch(job: Job, options: WatchOptions): Promise<void> {
    const { webhook, executionTimeoutMs, ttlMs } = options
    if (webhook === undefined && executionTimeoutMs === undefined && ttlMs === undefined) return
    const record = await this.#settings.store.add(job.id, {
      ...(webhook === undefined ? {} : { webhook }),
      ...(ttlMs === undefined ? {} : { ttlDeadline: job.createdAt.getTime() + ttlMs }),
      ...(executionTimeoutMs === undefined ? {} : { executionTimeoutMs }),
    })
    this.#track(record, job)
  }

  /** Records and sends the webhook of a job that is already over (one that never queued). */
  async notify(url: URL, body: unknown, jobId: string): Promise<void> {
    await this.#settings.store.addFinished(jobId, url, body)
    void this.#deliver(jobId)
  }

  /** One pass over the database; concurrent calls share it. */
  sweep(): Promise<void> {
    this.#sweeping ??= this.#sweepOnce()
      .catch((error: unknown) => this.#settings.logger.warn({ err: error }, 'runpod: sweep failed'))
      .finally(() => {
        this.#sweeping = undefined
      })
    return this.#sweeping
  }

  /** Stops timers and the sweep and waits for attempts on their way; the rest resumes from the database. */
  async close(): Promise<void> {
    this.#closed = true
    clearInterval(this.#sweeper)
    for (const id of [...this.#tracked.keys()]) this.#untrack(id)
    for (const timer of this.#retries.values()) clearTimeout(timer)
    this.#retries.clear()
    await this.#sweeping
    await Promise.allSettled([...this.#deliveries.values()])
  }

  async #sweepOnce(): Promise<void> {
    const { store, jobs, logger, webhookPolicy, rememberMs } = this.#settings
    for (const record of await store.open()) {
      if (this.#closed) return
      const job = await jobs.get(record.jobId)
      this.#track(record, job)
    }
    for (const jobId of await store.abandonInterrupted(maxAttempts(webhookPolicy))) {
      logger.warn({ jobId }, 'runpod: webhook not delivered: its last attempt was interrupted')
    }
    if (this.#closed) return
    const now = this.#clock()
    for (const { jobId, nextAttemptAt } of await store.pending()) {
      if (nextAttemptAt <= now) void this.#deliver(jobId)
      else if (!this.#retries.has(jobId)) this.#retryLater(jobId, nextAttemptAt - now)
    }
    await store.prune(this.#clock() - rememberMs)
  }

  /** Follows a job (once per process) and checks it against its deadlines as it is now. */
  #track(record: RunPodJobRecord, job: Job | null): void {
    if (this.#closed) return
    const id = record.jobId
    const known = this.#tracked.get(id)
    if (known !== undefined) {
      this.#guard(this.#check(known, job))
      return
    }
    const tracker: Tracker = { record, timer: undefined, unsubscribe: () => {} }
    this.#tracked.set(id, tracker)
    // checked before subscribing: a replayed event (newer than `job`) then has the last word
    this.#guard(this.#check(tracker, job))
    if (!this.#tracked.has(id)) return
    tracker.unsubscribe = this.#settings.jobs.subscribe(
      id,
      (event) => {
        if (TERMINAL_STATES.has(event.job.state) || event.type === 'started' || event.type === 'requeued') {
          this.#guard(this.#check(tracker, event.job))
        }
      },
      0,
    )
  }

  /** Ends tracking of a finished job, stops a job past its deadline, or arms a timer for the next one. */
  async #check(tracker: Tracker, job: Job | null): Promise<void> {
    const id = tracker.record.jobId
    if (this.#tracked.get(id) !== tracker) return
    if (job === null || TERMINAL_STATES.has(job.state)) {
      await this.#finished(id)
      return
    }
    clearTimeout(tracker.timer)
    tracker.timer = undefined
    const deadline = deadlineOf(tracker.record, job)
    if (deadline === undefined) return
    const wait = deadline - this.#clock()
    if (wait <= 0) {
      await this.#stop(id)
      return
    }
    tracker.timer = setTimeout(
      () => {
        this.#guard(this.#settings.jobs.get(id).then((latest) => this.#check(tracker, latest)))
      },
      Math.min(wait, MAX_TIMER_MS),
    ).unref()
  }

  async #stop(id: string): Promise<void> {
    if (this.#stopping.has(id)) return
    this.#stopping.add(id)
    this.#settings.logger.info({ jobId: id }, 'runpod: job exceeded its execution policy; canceling')
    try {
      // marked first, so the cancel's final status (and its webhook) already reads TIMED_OUT
      await this.#settings.store.markTimedOut(id)
      await this.#settings.jobs.cancel(id)
    } catch (error) {
      this.#stopping.delete(id) // the next check (timer or sweep) tries again
      throw error
    }
  }

  async #finished(id: string): Promise<void> {
    this.#untrack(id)
    if ((await this.#settings.store.finish(id)) === 'delivering') await this.#deliver(id)
  }

  #untrack(id: string): void {
    const tracker = this.#tracked.get(id)
    if (tracker === undefined) return
    clearTimeout(tracker.timer)
    tracker.unsubscribe()
    this.#tracked.delete(id)
    this.#stopping.delete(id)
  }

  /** One delivery attempt at a time per job in this process; the database lease covers other processes. */
  #deliver(id: string): Promise<void> {
    const running = this.#deliveries.get(id)
    if (running !== undefined) return running
    const attempt = this.#attempt(id)
      .catch((error: unknown) =>
        this.#settings.logger.error({ jobId: id, err: error }, 'runpod: webhook failed'),
      )
      .finally(() => this.#deliveries.delete(id))
    this.#deliveries.set(id, attempt)
    return attempt
  }

  async #attempt(id: string): Promise<void> {
    const { store, jobs, logger, webhookPolicy: policy } = this.#settings
    const attempts = maxAttempts(policy)
    const claimed = await store.claim(id, this.#owner, policy.timeoutMs + LEASE_MARGIN_MS, attempts)
    if (claimed === null) {
      // not due yet (a timer may fire a little before Date.now() reaches the due time): wait out the rest,
      // unless another process is making the attempt
      const record = await store.get(id)
      const now = this.#clock()
      if (record?.state !== 'delivering' || record.attempts >= attempts || (record.leaseUntil ?? 0) >= now)
        return
      this.#retryLater(id, Math.max(1, (record.nextAttemptAt ?? now) - now))
      return
    }
    if (claimed.webhook === null) return
    let body = claimed.payload
    if (body === undefined) {
      const job = await jobs.get(id)
      if (job === null || job.state === 'expired' || !TERMINAL_STATES.has(job.state)) {
        await store.giveUp(id, this.#owner, 'the job no longer exists')
        logger.warn({ jobId: id }, 'runpod: webhook not delivered: the job no longer exists')
        return
      }
      body = await this.#settings.render(job)
    }
    const result = await postWebhook(
      new URL(claimed.webhook),
      body,
      policy.timeoutMs,
      this.#settings.webhookTargets,
    )
    if (result.ok) {
      await store.delivered(id, this.#owner)
      logger.info({ jobId: id, attempts: claimed.attempts }, 'runpod: webhook delivered')
      return
    }
    const next = await store.failed(id, this.#owner, result.error, {
      maxAttempts: attempts,
      retryDelayMs: policy.retryDelayMs,
    })
    if (next === 'retry') this.#retryLater(id, policy.retryDelayMs)
    if (next === 'gave-up') {
      logger.warn(
        { jobId: id, attempts: claimed.attempts, lastError: result.error },
        'runpod: webhook not delivered',
      )
    }
  }

  #retryLater(id: string, delayMs: number): void {
    if (this.#closed) return
    clearTimeout(this.#retries.get(id))
    const timer = setTimeout(() => {
      this.#retries.delete(id)
      void this.#deliver(id)
    }, delayMs).unref()
    this.#retries.set(id, timer)
  }

  #guard(work: Promise<void>): void {
    work.catch((error: unknown) => this.#settings.logger.warn({ err: error }, 'runpod: job watch failed'))
  }
}

/** The earliest moment the job breaks a promise: its ttl, or its current run's execution timeout. */
function deadlineOf(record: RunPodJobRecord, job: Job): number | undefined {
  const deadlines: number[] = []
  if (record.ttlDeadline !== null) deadlines.push(record.ttlDeadline)
  if (record.executionTimeoutMs !== null && job.state === 'running' && job.startedAt !== null) {
    deadlines.push(job.startedAt.getTime() + record.executionTimeoutMs)
  }
  return deadlines.length === 0 ? undefined : Math.min(...deadlines)
}
