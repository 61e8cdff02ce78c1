/**
 * What the RunPod routes do, between the pure translators and Pigment's queue: run a worker action (generate,
 * warm up, debug, clean up), find a job by id for its caller, and render a job as RunPod's status body with
 * the worker's output. Queue-mode and load-balancer routes share it.
 * @module
 */
import { errors } from '../../core/errors.js'
import type { Job } from '../../core/job.js'
import { type Caller, mayAccess, requireAdmin } from '../auth.js'
import { requestedModel } from '../dialect-kit.js'
import type { ApiDeps } from '../shared/deps.js'
import { linkAssets, submitGeneration } from '../shared/generations.js'
import type { IdempotencyClaim } from '../shared/idempotency.js'
import { comfyPassthrough } from './comfy-passthrough.js'
import type { JobWatch } from './job-watch.js'
import type { JobStatusBody, WorkerOutput, WorkerResult } from './schema.js'
import type { SideJobs } from './side-jobs.js'
import { toJobStatus, toWorkerResult, type WorkerAction } from './translate.js'
import { cleanup, debug, warmup } from './worker-ops.js'

/** Pigment runs ONNX models in float32 on the CPU unless a pipeline reports otherwise. */
const RUNTIME = { device: 'cpu', dtype: 'float32' } as const

/** A queued generation, or the finished result of a maintenance action that never queues. */
export type Started =
  | { readonly job: Job }
  | { readonly output: WorkerOutput; readonly executionTime: number }

/** Either a queued job or a side job's recorded status. */
export type FoundJob = { readonly job: Job } | { readonly side: JobStatusBody }

export class WorkerService {
  constructor(
    readonly deps: ApiDeps,
    readonly watch: JobWatch,
    readonly sideJobs: SideJobs,
  ) {}

  /** The registry name a RunPod endpoint id stands for; unknown → MODEL_NOT_FOUND (404). */
  async model(endpoint: string | undefined): Promise<string> {
    return (await this.deps.models.profile(requestedModel(endpoint))).name
  }

  async start(
    action: WorkerAction,
    model: string,
    caller: Caller,
    priority = 0,
    idempotency?: IdempotencyClaim,
  ): Promise<Started> {
    const began = performance.now()
    const done = (output: WorkerOutput) => ({ output, executionTime: Math.round(performance.now() - began) })
    switch (action.kind) {
      case 'warmup':
        requireAdmin(caller, 'warmup')
        return done(await warmup(this.deps, model))
      case 'debug':
        requireAdmin(caller, 'debug')
        return done(await debug(this.deps))
      case 'cleanup':
        requireAdmin(caller, 'cleanup')
        return done(await cleanup())
      case 'comfy':
        requireAdmin(caller, 'the ComfyUI passthrough')
        return done(await comfyPassthrough(this.deps, action.input, action.payload))
      case 'generate': {
        const job = await submitGeneration(
          this.deps,
          { ...action.input, model },
          {
            origin: { keyId: caller.keyId, source: 'runpod' },
            priority,
            allowDownscaleOnOom: action.allowDownscaleOnOom,
            idempotency,
          },
        )
        return { job }
      }
    }
  }

  /** A job the caller may see, by id; unknown, expired and other keys' jobs are all 404. */
  async find(id: string, caller: Caller): Promise<FoundJob> {
    const side = this.sideJobs.get(id)
    if (side !== undefined && mayAccess(caller, side.ownerKeyId)) return { side: side.body }
    const job = await this.deps.jobs.get(id)
    if (job === null || job.state === 'expired' || !mayAccess(caller, job.ownerKeyId)) {
      throw errors.JOB_NOT_FOUND(`request ${id} does not exist`)
    }
    return { job }
  }

  async result(job: Job): Promise<WorkerResult> {
    const linked = await linkAssets(this.deps, job)
    return toWorkerResult(
      job,
      linked.map((link) => link.asset),
      { urls: linked.map((link) => link.url), bucket: this.deps.storage.bucket, ...RUNTIME },
    )
  }

  async status(job: Job): Promise<JobStatusBody> {
    const output = job.state === 'succeeded' ? await this.result(job) : undefined
    // only a canceled or failed job can read TIMED_OUT: spare the lookup for the rest
    const stoppable = job.state === 'canceled' || job.state === 'failed'
    return toJobStatus(job, {
      timedOut: stoppable && (await this.watch.isTimedOut(job.id)),
      ...(output === undefined ? {} : { output }),
      now: new Date(),
    })
  }

  /** Waits up to `waitMs` for the job to end, then renders its status. */
  async statusAfter(job: Job, waitMs: number): Promise<JobStatusBody> {
    const latest = waitMs > 0 ? ((await this.deps.jobs.waitUntilFinished(job.id, waitMs)) ?? job) : job
    return this.status(latest)
  }
}
