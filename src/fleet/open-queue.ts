/**
 * Chooses the server's job queue from the config: the records database alone (one process, the default),
 * or BullMQ dispatch over Redis with the records in Postgres (`--queue redis://…`, many processes).
 * @module
 */
import type { Config } from '../config/schema.js'
import type { Job } from '../core/job.js'
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
  /** Worker processes: settles what a job's end settles before the end is announced (see BullmqQueue). */
  readonly onJobEnded?: (job: Job) => Promise<void>
}

function settings(config: Config, role: QueueRole) {
  return {
    maxQueued: config.queueLimit,
    retentionMs: Math.round(config.retentionSeconds * 1000),
    maxAttempts: config.maxAttempts,
    concurrency: Math.max(1, role.concurrency),
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
    onRedisError: (err, during) => role.logger?.warn({ err }, `redis unavailable while ${during}`),
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
