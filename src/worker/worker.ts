/**
 * In-process workers: `workers` claim loops over one queue. Each loop waits for work, claims the next job
 * and runs it (`run-job.ts`). `stop({ graceMs })` stops claiming, lets running jobs finish within the grace
 * period, then aborts the rest, which go back to the queue: nothing accepted is lost. Given `probeRecords`,
 * an outage of the records database stops the claims until a backed-off probe answers, with one log line
 * when it starts and one when it ends (`outage-gate.ts`).
 * @module
 */
import { hostname } from 'node:os'
import { errors } from '../core/errors.js'
import { isDatabaseOutage } from '../db/outage.js'
import type { JobConsumer, JobMaintenance } from '../jobs/job-queue.js'
import { DEFAULT_RETENTION_MS } from '../jobs/queue-options.js'
import { encodeImage } from '../pipelines/encode/index.js'
import type { BlobStore } from '../storage/blob-store.js'
import type { PipelineSource } from './model-cache.js'
import { OutageGate } from './outage-gate.js'
import { type ImageEncoder, type JobOutcome, type RunJobDeps, runJob, type WorkerLogger } from './run-job.js'

export interface WorkerOptions {
  readonly queue: JobConsumer & Pick<JobMaintenance, 'recoverStale'>
  readonly store: BlobStore
  readonly assets: RunJobDeps['assets']
  readonly pipelines: PipelineSource
  /** Default: `encodeImage` (sharp). */
  readonly encode?: ImageEncoder
  /** Claim loops (jobs run at the same time); default 1. */
  readonly workers?: number
  /** Prefix of the worker ids recorded on jobs; default `<host>:<pid>`. */
  readonly id?: string
  /** Claim only jobs for these models (default: any). */
  readonly models?: readonly string[]
  /** Must match the queue's retention (default 1 hour). */
  readonly retentionMs?: number
  /** Longest sleep between claims when no wake-up comes (default 1000 ms). */
  readonly pollMs?: number
  /** Lease renewal interval while a job runs; keep it well under the queue's lease (default 10 s). */
  readonly heartbeatMs?: number
  /** Fastest progress write rate (default 100 ms, ~10 per second). */
  readonly progressIntervalMs?: number
  /** Preview every k steps (default 0 = none). */
  readonly previewEvery?: number
  /** How often to requeue jobs of dead workers (default 15 s; 0 = only at start). */
  readonly recoverEveryMs?: number
  readonly clock?: () => number
  readonly logger?: WorkerLogger
  /** Called after each job with how it ended (metrics). */
  readonly onJobEnd?: (outcome: JobOutcome, durationMs: number) => void
  /** Resolves when the records database answers; enables waiting out its outages quietly. */
  readonly probeRecords?: () => Promise<unknown>
}

const SILENT: WorkerLogger = { info() {}, warn() {}, error() {} }

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal.addEventListener('abort', done, { once: true })
  })
}

function positive(name: string, value: number, min = 1): number {
  if (!Number.isInteger(value) || value < min)
    throw new RangeError(`worker option ${name} must be an integer ≥ ${min}`)
  return value
}

export class Worker {
  readonly id: string
  readonly #options: WorkerOptions
  readonly #deps: RunJobDeps
  readonly #count: number
  readonly #pollMs: number
  readonly #recoverEveryMs: number
  readonly #stopClaiming = new AbortController()
  readonly #abortRunning = new AbortController()
  #loops: Promise<void>[] = []
  #running = 0
  #recoverTimer: NodeJS.Timeout | null = null
  #stopped: Promise<void> | null = null
  readonly #records: OutageGate | null

  constructor(options: WorkerOptions) {
    this.#options = options
    this.id = options.id ?? `${hostname()}:${process.pid}`
    this.#count = positive('workers', options.workers ?? 1)
    this.#pollMs = positive('pollMs', options.pollMs ?? 1000)
    this.#recoverEveryMs = positive('recoverEveryMs', options.recoverEveryMs ?? 15_000, 0)
    this.#deps = {
      queue: options.queue,
      store: options.store,
      assets: options.assets,
      pipelines: options.pipelines,
      encode: options.encode ?? encodeImage,
      clock: options.clock ?? Date.now,
      retentionMs: positive('retentionMs', options.retentionMs ?? DEFAULT_RETENTION_MS, 0),
      progressIntervalMs: positive('progressIntervalMs', options.progressIntervalMs ?? 100, 0),
      heartbeatMs: positive('heartbeatMs', options.heartbeatMs ?? 10_000),
      previewEvery: positive('previewEvery', options.previewEvery ?? 0, 0),
      logger: options.logger ?? SILENT,
      outage: (error) => {
        if (this.#records === null || !isDatabaseOutage(error)) return false
        void this.#records.report(error)
        return true
      },
    }
    this.#records =
      options.probeRecords === undefined
        ? null
        : new OutageGate({
            service: 'records database',
            probe: options.probeRecords,
            isOutage: isDatabaseOutage,
            logger: this.#deps.logger,
          })
  }

  /** True when the error belongs to an outage of the records database, which the gate has logged. */
  async #outage(err: unknown): Promise<boolean> {
    return this.#records !== null && isDatabaseOutage(err) && (await this.#records.report(err))
  }

  /** Jobs running now. */
  get running(): number {
    return this.#running
  }

  /** Requeues jobs left running by a dead process, then starts the claim loops. */
  async start(): Promise<void> {
    if (this.#loops.length > 0 || this.#stopped !== null) throw new Error('worker already started')
    const recovered = await this.#options.queue.recoverStale()
    if (recovered > 0)
      this.#deps.logger.info({ recovered }, 'requeued jobs left running by a previous process')
    if (this.#recoverEveryMs > 0) {
      this.#recoverTimer = setInterval(() => {
        this.#options.queue.recoverStale().catch(async (err: unknown) => {
          if (!(await this.#outage(err))) this.#deps.logger.warn({ err }, 'stale job recovery failed')
        })
      }, this.#recoverEveryMs)
      this.#recoverTimer.unref()
    }
    this.#loops = Array.from({ length: this.#count }, (_, i) => this.#loop(`${this.id}/${i}`))
  }

  /**
   * Stops claiming, waits up to `graceMs` for running jobs, then aborts them back into the queue.
   * Resolves when every loop has ended; calling it again returns the same promise.
   */
  stop(options: { readonly graceMs?: number } = {}): Promise<void> {
    this.#stopped ??= this.#stop(options.graceMs ?? 30_000)
    return this.#stopped
  }

  async #stop(graceMs: number): Promise<void> {
    if (this.#recoverTimer !== null) clearInterval(this.#recoverTimer)
    this.#records?.stop()
    this.#stopClaiming.abort()
    const all = Promise.all(this.#loops)
    let timer: NodeJS.Timeout | undefined
    const graceOver = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), graceMs)
    })
    if ((await Promise.race([all, graceOver])) === 'late') {
      this.#deps.logger.info({ running: this.#running }, 'grace period over; requeueing running jobs')
      this.#abortRunning.abort(errors.JOB_INTERRUPTED('the worker is shutting down'))
    }
    clearTimeout(timer)
    await all
  }

  async #loop(workerId: string): Promise<void> {
    const stopping = this.#stopClaiming.signal
    while (!stopping.aborted) {
      try {
        const claimed = await this.#options.queue.claim(workerId, this.#options.models)
        if (claimed === null) {
          await this.#options.queue.waitForWork(this.#pollMs, stopping)
          continue
        }
        // claimed just as stop began: the job runs anyway, within the grace period like the others
        this.#running++
        const started = this.#deps.clock()
        try {
          const outcome = await runJob(claimed, this.#abortRunning.signal, this.#deps)
          this.#options.onJobEnd?.(outcome, this.#deps.clock() - started)
        } finally {
          this.#running--
        }
      } catch (err) {
        if (await this.#outage(err)) {
          // logged once by the gate; claim again once the database answers its probe
          while (this.#records?.down === true && !stopping.aborted) await sleep(this.#pollMs, stopping)
          continue
        }
        // the database or storage failed under us; back off instead of spinning
        this.#deps.logger.error({ err, workerId }, 'worker loop error')
        await sleep(this.#pollMs, stopping)
      }
    }
  }
}
