/**
 * The queue contract, split by role (BullMQ's lesson: no 81-method interface). `db-queue.ts` keeps jobs in the
 * records database (SQLite or Postgres through Kysely) with in-process events; a BullMQ one would spread them
 * over Redis. Every implementation passes `job-queue.contract.ts`.
 * @module
 */
import type { GenerationRequest } from '../core/generation-request.js'
import type { Job, JobError, JobProgress, JobState } from '../core/job.js'

export interface JobFilter {
  readonly state?: JobState | readonly JobState[]
  /** Only jobs of this owner (null = jobs submitted with auth off). Undefined = all owners (admin). */
  readonly ownerKeyId?: string | null
  readonly model?: string
  readonly createdAfter?: Date
  readonly createdBefore?: Date
}

export interface JobPage {
  readonly jobs: readonly Job[]
  /** Opaque; pass back to get the next page. null at the end. */
  readonly nextCursor: string | null
}

export interface QueueCounts {
  readonly queued: number
  readonly running: number
  readonly succeeded: number
  readonly failed: number
  readonly canceled: number
  readonly retried: number
}

/** Used by the API: submit, look up, cancel. */
export interface JobProducer {
  /** Throws QUEUE_FULL (429/503 with Retry-After) beyond the queue length limit. */
  enqueue(request: GenerationRequest, options?: { readonly maxAttempts?: number }): Promise<Job>
  get(id: string): Promise<Job | null>
  list(filter: JobFilter, page: { readonly limit: number; readonly cursor?: string | null }): Promise<JobPage>
  /** Queued jobs are canceled at once; running jobs are flagged and stop at their next step. Null if unknown. */
  cancel(id: string): Promise<Job | null>
  /** 0 = next to run; null when not queued. */
  position(id: string): Promise<number | null>
  counts(): Promise<QueueCounts>
  /** Cancels every queued job; returns how many. */
  purge(): Promise<number>
}

export interface ClaimedJob {
  readonly job: Job
  /** Proves ownership of the running job; every later transition needs it. */
  readonly lease: string
  /** Fires when the job is canceled while running. */
  readonly signal: AbortSignal
}

/** Used by workers: claim, report, finish. */
export interface JobConsumer {
  /** Moves the highest-priority, oldest queued job to running; null when none (or none for these models). */
  claim(workerId: string, models?: readonly string[]): Promise<ClaimedJob | null>
  /** Records progress and extends the lease; `previewPng` (base64 PNG) rides along on the event only. */
  progress(
    id: string,
    lease: string,
    progress: JobProgress,
    options?: { readonly previewPng?: string },
  ): Promise<void>
  /**
   * Extends the lease of a running job. Reports a cancel request (made in any process) and fires the
   * claimed job's signal for it; throws JOB_LEASE_LOST when the job is no longer this lease's.
   */
  heartbeat(id: string, lease: string): Promise<{ readonly cancelRequested: boolean }>
  complete(id: string, lease: string, assetIds: readonly string[]): Promise<Job>
  /** retryable + attempts left → back to queued; otherwise failed. */
  fail(id: string, lease: string, error: JobError, options: { readonly retryable: boolean }): Promise<Job>
  /** Puts a running job back in the queue without counting an attempt (graceful shutdown). */
  requeue(id: string, lease: string): Promise<Job>
  /** Ends a running job whose cancel was requested as canceled (the worker stopped and stored nothing). */
  acknowledgeCancel(id: string, lease: string): Promise<Job>
  /** Resolves when a job may be waiting (new submission or a requeue), or after timeoutMs. */
  waitForWork(timeoutMs: number, signal?: AbortSignal): Promise<void>
}

export type JobEventType =
  | 'queued'
  | 'started'
  | 'progress'
  | 'requeued'
  | 'succeeded'
  | 'failed'
  | 'canceled'

export interface JobEvent {
  /** Increases by one per event of the same job, from 1: the SSE event id. */
  readonly seq: number
  readonly type: JobEventType
  readonly job: Job
  readonly progress?: JobProgress
  /** Optional low-resolution preview (PNG bytes, base64) attached to progress events. */
  readonly previewPng?: string
}

/** Used by the API's SSE route and sync waits. */
export interface JobEvents {
  /** Calls the listener with each event of the job after `afterSeq` (replaying what is still buffered). */
  subscribe(jobId: string, listener: (event: JobEvent) => void, afterSeq?: number): () => void
  /** Resolves with the job once it is terminal, or with its current state after timeoutMs. */
  waitUntilFinished(jobId: string, timeoutMs: number): Promise<Job | null>
}

/** Housekeeping: crash recovery and retention. */
export interface JobMaintenance {
  /** Requeues (or fails, when out of attempts) jobs whose lease expired or whose process died. */
  recoverStale(now?: Date): Promise<number>
  /** Moves finished jobs past their retention to expired and returns their asset ids for deletion. */
  expireFinished(now?: Date): Promise<{ readonly jobs: number; readonly assetIds: readonly string[] }>
}

export type JobQueue = JobProducer & JobConsumer & JobEvents & JobMaintenance & { close(): Promise<void> }
