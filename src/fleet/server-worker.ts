/**
 * The workers a `pigment serve` process runs itself: claim loops over the database queue, or, with
 * `--queue redis://… --workers N`, a fleet worker taking BullMQ tickets like a `pigment worker` process.
 * @module
 */
import { BullmqQueue } from '../jobs/bullmq/bullmq-queue.js'
import { FleetWorker } from '../jobs/bullmq/fleet-worker.js'
import type { JobQueue } from '../jobs/job-queue.js'
import { Worker, type WorkerOptions } from '../worker/worker.js'

export interface ServerWorker {
  readonly running: number
  start(): Promise<void>
  stop(options?: { readonly graceMs?: number }): Promise<void>
}

export interface ServerWorkerOptions extends Omit<WorkerOptions, 'queue'> {
  /** The queue as the server wraps it (metrics, credits): every transition goes through it. */
  readonly queue: JobQueue
  /** Models this process serves (fleet mode: the dispatch queues it takes tickets from). */
  readonly modelNames: readonly string[]
}

export function serverWorker(base: JobQueue, options: ServerWorkerOptions): ServerWorker {
  if (!(base instanceof BullmqQueue)) return new Worker(options)
  return new FleetWorker({
    queue: base,
    consumer: options.queue,
    redisUrl: base.redisUrl,
    store: options.store,
    assets: options.assets,
    pipelines: options.pipelines,
    models: options.models ?? options.modelNames,
    concurrency: options.workers ?? 1,
    ...(options.retentionMs === undefined ? {} : { retentionMs: options.retentionMs }),
    ...(options.progressIntervalMs === undefined ? {} : { progressIntervalMs: options.progressIntervalMs }),
    ...(options.previewEvery === undefined ? {} : { previewEvery: options.previewEvery }),
    ...(options.logger === undefined ? {} : { logger: options.logger }),
    ...(options.onJobEnd === undefined ? {} : { onJobEnd: options.onJobEnd }),
  })
}
