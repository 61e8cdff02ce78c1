/**
 * Chooses the server's job queue from the config: the records database alone (one process, the default),
 * or BullMQ dispatch over Redis with the records in Postgres (`--queue redis://…`, many processes).
 * @module
 */
import type { Config } from '../config/schema.js'
import type { Job } from '../core/job.js'
import type { JobSettler } from '../credits/job-settlement.js'
import type { DatabaseHandle } from '../db/connect.js'
import { type BullmqQueue, openBullmqQueue } from '../jobs/bullmq/bullmq-queue.js'
import { DbQueue } from '../jobs/db-queue.js'
import type { WorkerLogger } from '../worker/run-job.js'

export interface QueueRole {
  /** API processes hear every process's events (SSE, sync waits); worker processes only publish. */
  readonly hearsEvents: boolean
  /** Workers draining the queue, for the Retry-After estimate. */
  readonly concurrency: number
  readonly logger?: WorkerLogger
  /**
   * Processes that end jobs (`pigment worker`, `serve --queue … --workers N`): settles what a job's end
   * settles before the end is announced on Redis (see BullmqQueue); the database queue has nothing to announce.
   */
  readonly onJobEnded?: (job: Job) => Promise<void>
}

/**
 * The `onJobEnded` of a process that ends jobs: the job's credit charge is settled first, so a client told
 * its job is done sees its credits and concurrency slot back. Settling acts only on a charge still reserved,
 * so the charged queue settling the same job again afterwards changes nothing. A failure is logged and left
 * to the API processes' sweep rather than holding the announcement back.
 */
export function settleBeforeAnnouncing(
  settler: Pick<JobSettler, 'settleJob'>,
  logger?: WorkerLogger,
): (job: Job) => Promise<void> {
  return (job) =>
    settler.settleJob(job).catch((err: unknown) => {
      logger?.warn({ err, jobId: job.id }, 'could not settle the charge of a finished job; the sweep will')
    })
}

function settings(config: Config, role: QueueRole) {
  return {
    maxQueued: config.queueLimit,
    retentionMs: Math.round(config.retentionSeconds * 1000),
    maxAttempts: config.maxAttempts,
    concurrency: Math.max(1, role.concurrency),
  }
}

// While Redis is down every publish and dispatch fails; one line per kind of failure and per minute says so
const REDIS_ERROR_LOG_EVERY_MS = 60_000

/** Logs a survived Redis error at most once a minute per `during`, with how many were left out. */
export function redisErrorLog(
  logger: WorkerLogger | undefined,
  clock: () => number = Date.now,
): (err: unknown, during: string) => void {
  const last = new Map<string, { at: number; quiet: number }>()
  return (err, during) => {
    const seen = last.get(during)
    const now = clock()
    if (seen !== undefined && now - seen.at < REDIS_ERROR_LOG_EVERY_MS) {
      seen.quiet++
      return
    }
    last.set(during, { at: now, quiet: 0 })
    const fields = seen === undefined || seen.quiet === 0 ? { err } : { err, leftOut: seen.quiet }
    logger?.warn(
      fields,
      `redis unavailable while ${during}; the records stay right and catch up once it is back`,
    )
  }
}

export async function openFleetQueue(
  config: Config,
  database: DatabaseHandle,
  role: QueueRole,
): Promise<BullmqQueue> {
  return openBullmqQueue(database, {
    ...settings(config, role),
    redisUrl: config.queueUrl,
    prefix: config.fleetPrefix,
    subscribeEvents: role.hearsEvents,
    onRedisError: redisErrorLog(role.logger),
    ...(role.onJobEnded === undefined ? {} : { onJobEnded: role.onJobEnded }),
  })
}

export async function openServerQueue(
  config: Config,
  database: DatabaseHandle,
  role: QueueRole,
): Promise<DbQueue | BullmqQueue> {
  if (config.queueUrl === '') return new DbQueue(database, settings(config, role))
  return openFleetQueue(config, database, role)
}
