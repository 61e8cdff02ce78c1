/**
 * The database queue's options, checked once at construction (fastify-rate-limit's habit) and given
 * named defaults.
 * @module
 */
import { randomBytes } from 'node:crypto'
import type { DialectName } from '../db/connect.js'
import type { JobEvent } from './job-queue.js'

export interface DbQueueOptions {
  /** This process's identity in `jobs.instance_id` (default: random per queue). */
  readonly instanceId?: string
  /** Queued jobs beyond which `enqueue` throws QUEUE_FULL (default 1000). */
  readonly maxQueued?: number
  /** How long finished jobs and their images are kept (default 1 hour). */
  readonly retentionMs?: number
  /** How long a claim holds without a heartbeat or progress (default 30 s). */
  readonly leaseMs?: number
  /** Attempts per job unless `enqueue` says otherwise (default 3). */
  readonly maxAttempts?: number
  /** First retry delay; doubles per attempt up to 1 minute (default 1000 ms; 0 = retry at once). */
  readonly retryBackoffMs?: number
  /** Workers draining the queue, for the Retry-After estimate (default 1). */
  readonly concurrency?: number
  /** A job's assumed run time before any has finished, for the Retry-After estimate (default 10 s). */
  readonly assumedJobMs?: number
  /**
   * Only this process uses the database, so running jobs of any other instance are orphans of a crash and
   * `recoverStale` requeues them at once (default: true on SQLite, false on Postgres).
   */
  readonly exclusive?: boolean
  /** Events kept per job for SSE replay (default 64). */
  readonly replayEventsPerJob?: number
  /** How often `waitUntilFinished` re-reads the record, for jobs finished by another process (default 1 s). */
  readonly finishPollMs?: number
  /** Epoch milliseconds; injectable for tests. */
  readonly clock?: () => number
  /** `close()` also closes the database (default false). */
  readonly ownsDatabase?: boolean
  /** Sees every event this queue publishes, e.g. to relay it to other processes (default: none). */
  readonly onEvent?: (event: JobEvent) => void
}

export type DbQueueSettings = Required<DbQueueOptions>

export const DEFAULT_RETENTION_MS = 60 * 60 * 1000
const MAX_RETRY_DELAY_MS = 60_000

function positiveInteger(name: string, value: number | undefined, fallback: number, min = 1): number {
  const chosen = value ?? fallback
  if (!Number.isInteger(chosen) || chosen < min) {
    throw new RangeError(`queue option ${name} must be an integer ≥ ${min}, got ${String(value)}`)
  }
  return chosen
}

export function normalizeQueueOptions(options: DbQueueOptions, dialect: DialectName): DbQueueSettings {
  return {
    instanceId: options.instanceId ?? randomBytes(8).toString('hex'),
    maxQueued: positiveInteger('maxQueued', options.maxQueued, 1000),
    retentionMs: positiveInteger('retentionMs', options.retentionMs, DEFAULT_RETENTION_MS, 0),
    leaseMs: positiveInteger('leaseMs', options.leaseMs, 30_000),
    maxAttempts: positiveInteger('maxAttempts', options.maxAttempts, 3),
    retryBackoffMs: positiveInteger('retryBackoffMs', options.retryBackoffMs, 1000, 0),
    concurrency: positiveInteger('concurrency', options.concurrency, 1),
    assumedJobMs: positiveInteger('assumedJobMs', options.assumedJobMs, 10_000),
    exclusive: options.exclusive ?? dialect === 'sqlite',
    replayEventsPerJob: positiveInteger('replayEventsPerJob', options.replayEventsPerJob, 64),
    finishPollMs: positiveInteger('finishPollMs', options.finishPollMs, 1000),
    clock: options.clock ?? Date.now,
    ownsDatabase: options.ownsDatabase ?? false,
    onEvent: options.onEvent ?? (() => {}),
  }
}

/** Delay before the next try after `attempts` tries: base, 2·base, 4·base … at most a minute. */
export function retryDelayMs(attempts: number, baseMs: number): number {
  if (baseMs === 0) return 0
  return Math.min(MAX_RETRY_DELAY_MS, baseMs * 2 ** Math.max(0, attempts - 1))
}
