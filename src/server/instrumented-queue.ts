/**
 * Watches the workers' side of the queue (claim, progress, complete, fail …) to feed the metrics, so
 * neither the queue nor the worker needs to know that metrics exist. Every other call passes through.
 * @module
 */
import type { PigmentMetrics } from '../api/shared/pigment-metrics.js'
import type { Job, JobError, JobProgress } from '../core/job.js'
import type { DbQueue } from '../jobs/db-queue.js'
import type { ClaimedJob, JobQueue } from '../jobs/job-queue.js'

type ClaimById = Pick<DbQueue, 'claimJob'>

interface RunTiming {
  readonly startedMs: number
  lastStepMs: number
  lastStep: number
}

export function instrumentQueue(queue: JobQueue, metrics: PigmentMetrics): JobQueue {
  const runs = new Map<string, RunTiming>()

  const finish = (job: Job, outcome: string) => {
    const run = runs.get(job.id)
    runs.delete(job.id)
    if (run !== undefined)
      metrics.jobDuration.observe((performance.now() - run.startedMs) / 1000, { outcome })
    if (job.state === 'succeeded' || job.state === 'failed' || job.state === 'canceled') {
      metrics.jobsFinished.inc({ state: job.state })
    }
  }

  const start = (claimed: ClaimedJob | null): ClaimedJob | null => {
    if (claimed !== null) {
      const now = performance.now()
      runs.set(claimed.job.id, { startedMs: now, lastStepMs: now, lastStep: 0 })
      const started = claimed.job.startedAt ?? new Date()
      metrics.queueWait.observe(Math.max(0, started.getTime() - claimed.job.createdAt.getTime()) / 1000)
    }
    return claimed
  }
  const claimJob = (queue as Partial<ClaimById>).claimJob?.bind(queue)

  const overrides: Partial<JobQueue & ClaimById> = {
    async claim(workerId: string, models?: readonly string[]): Promise<ClaimedJob | null> {
      return start(await queue.claim(workerId, models))
    },
    // fleet workers claim the job their dispatch ticket names rather than the next one
    ...(claimJob === undefined
      ? {}
      : {
          async claimJob(id: string, workerId: string, options?: { readonly takeOver?: boolean }) {
            return start(await claimJob(id, workerId, options))
          },
        }),
    async progress(
      id: string,
      lease: string,
      progress: JobProgress,
      options?: { readonly previewPng?: string },
    ) {
      await queue.progress(id, lease, progress, options)
      const run = runs.get(id)
      if (run === undefined) return
      const now = performance.now()
      // The first step of an image also carries prompt encoding or the previous decode: not a step time.
      if (progress.step > 1 && progress.step === run.lastStep + 1) {
        metrics.stepDuration.observe((now - run.lastStepMs) / 1000)
      }
      run.lastStep = progress.step
      run.lastStepMs = now
    },
    async complete(id: string, lease: string, assetIds: readonly string[]): Promise<Job> {
      const job = await queue.complete(id, lease, assetIds)
      metrics.imagesGenerated.inc({ model: job.request.model }, assetIds.length)
      finish(job, 'succeeded')
      return job
    },
    async fail(
      id: string,
      lease: string,
      error: JobError,
      options: { readonly retryable: boolean },
    ): Promise<Job> {
      const job = await queue.fail(id, lease, error, options)
      metrics.countError(error.code, 'job')
      finish(job, job.state === 'failed' ? 'failed' : 'retried')
      return job
    },
    async requeue(id: string, lease: string): Promise<Job> {
      const job = await queue.requeue(id, lease)
      finish(job, 'requeued')
      return job
    },
    async acknowledgeCancel(id: string, lease: string): Promise<Job> {
      const job = await queue.acknowledgeCancel(id, lease)
      finish(job, 'canceled')
      return job
    },
  }

  return new Proxy(queue, {
    get(target, property) {
      if (Object.hasOwn(overrides, property)) return overrides[property as keyof typeof overrides]
      // Getters and methods of a class with #private fields must see the real queue as `this`.
      const value = Reflect.get(target, property, target)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
}
