/**
 * A worker process of the fleet: one BullMQ worker per model it serves takes tickets from that model's
 * queue, claims the named record in the database and runs it with the same `runJob` as the in-process
 * workers. BullMQ's lock and stalled checker notice a worker that died mid-job and hand the ticket to
 * another worker, which takes the record over under a new lease (the dead one's lease is void, so it can
 * never complete the job too). A run that ends requeued (a retryable failure, a shutdown) throws, so BullMQ
 * retries the ticket with its backoff. Alongside: an advert with a TTL (`worker-registry.ts`), cancel
 * requests heard on the cancel channel, and a periodic sweep that recovers expired leases and writes
 * tickets lost with Redis. While the records database is down the BullMQ workers are paused (no ticket is
 * taken that could not be claimed) and resumed when it answers again; a Redis outage needs no pause, since
 * BullMQ waits for Redis by itself. Either logs one line when it starts and one when it ends
 * (`outage-gate.ts`), not one per failed retry.
 * @module
 */
import { hostname } from 'node:os'
import { type Job as BullJob, Worker as BullWorker } from 'bullmq'
import { errors } from '../../core/errors.js'
import { isDatabaseOutage } from '../../db/outage.js'
import { encodeImage } from '../../pipelines/encode/index.js'
import type { BlobStore } from '../../storage/blob-store.js'
import type { PipelineSource } from '../../worker/model-cache.js'
import { OutageGate } from '../../worker/outage-gate.js'
import { type JobOutcome, type RunJobDeps, runJob, type WorkerLogger } from '../../worker/run-job.js'
import type { ClaimedJob, JobConsumer } from '../job-queue.js'
import { DEFAULT_RETENTION_MS } from '../queue-options.js'
import type { BullmqQueue } from './bullmq-queue.js'
import type { DispatchTicket } from './dispatcher.js'
import { durableClient, type RedisClient } from './redis-clients.js'
import { advertise, withdrawAdvert } from './worker-registry.js'

export interface FleetWorkerOptions {
  readonly queue: BullmqQueue
  /**
   * Where claims and transitions go when the queue is wrapped (metrics, credits); default `queue`. Its
   * `claimJob`, when it has one, takes the claims, so the wrapper sees each run start.
   */
  readonly consumer?: JobConsumer & Partial<Pick<BullmqQueue, 'claimJob'>>
  readonly redisUrl: string
  readonly store: BlobStore
  readonly assets: RunJobDeps['assets']
  readonly pipelines: PipelineSource
  /** Models this process takes jobs for. */
  readonly models: readonly string[]
  /** Jobs run at once per model (default 1). */
  readonly concurrency?: number
  /** Default `<host>:<pid>`. */
  readonly id?: string
  readonly encode?: RunJobDeps['encode']
  readonly retentionMs?: number
  readonly heartbeatMs?: number
  readonly progressIntervalMs?: number
  readonly previewEvery?: number
  /** BullMQ lock: a worker silent this long is taken for dead and its ticket handed on (default 30 s). */
  readonly lockMs?: number
  /** How often BullMQ looks for stalled tickets (default: lockMs). */
  readonly stalledCheckMs?: number
  /** Advert renewal (default 5 s; the advert lives three times as long). */
  readonly advertiseEveryMs?: number
  /** Lease recovery and ticket reconciliation (default 10 s). */
  readonly sweepEveryMs?: number
  readonly logger?: WorkerLogger
  readonly onJobEnd?: (outcome: JobOutcome, durationMs: number) => void
}

const SILENT: WorkerLogger = { info() {}, warn() {}, error() {} }

/** Thrown from the processor so that BullMQ retries the ticket with backoff; not an error of the job. */
class TicketRequeued extends Error {
  constructor(id: string) {
    super(`job ${id} went back to the queue`)
    this.name = 'TicketRequeued'
  }
}

export class FleetWorker {
  readonly id: string
  readonly #options: FleetWorkerOptions
  readonly #deps: RunJobDeps
  readonly #logger: WorkerLogger
  readonly #concurrency: number
  readonly #claimJob: BullmqQueue['claimJob']
  readonly #abortRunning = new AbortController()
  readonly #local = new Map<string, ClaimedJob>()
  #bullWorkers: BullWorker<DispatchTicket>[] = []
  #connections: RedisClient[] = []
  #cancels: RedisClient | null = null
  #timers: NodeJS.Timeout[] = []
  #stopped: Promise<void> | null = null
  readonly #records: OutageGate
  readonly #redis: OutageGate

  constructor(options: FleetWorkerOptions) {
    if (options.models.length === 0) throw new RangeError('a fleet worker needs at least one model')
    this.#options = options
    this.id = options.id ?? `${hostname()}:${process.pid}`
    this.#concurrency = options.concurrency ?? 1
    this.#logger = options.logger ?? SILENT
    const wrapped = options.consumer?.claimJob
    this.#claimJob =
      wrapped === undefined ? options.queue.claimJob.bind(options.queue) : wrapped.bind(options.consumer)
    this.#deps = {
      queue: options.consumer ?? options.queue,
      store: options.store,
      assets: options.assets,
      pipelines: options.pipelines,
      encode: options.encode ?? encodeImage,
      clock: Date.now,
      retentionMs: options.retentionMs ?? DEFAULT_RETENTION_MS,
      progressIntervalMs: options.progressIntervalMs ?? 100,
      heartbeatMs: options.heartbeatMs ?? 10_000,
      previewEvery: options.previewEvery ?? 0,
      logger: this.#logger,
      outage: (error) => {
        if (!isDatabaseOutage(error)) return false
        void this.#records.report(error)
        return true
      },
    }
    this.#records = new OutageGate({
      service: 'records database',
      probe: () => options.queue.probeRecords(),
      isOutage: isDatabaseOutage,
      logger: this.#logger,
      onDown: () => this.#pauseIntake(),
      onUp: () => this.#resumeIntake(),
    })
    this.#redis = new OutageGate({
      service: 'redis',
      probe: () => options.queue.redis.ping(),
      logger: this.#logger,
    })
  }

  /** Logs an error once per outage of the service it came from, or as `message` when it is no outage. */
  async #trouble(err: unknown, message: string, fields: object = {}): Promise<void> {
    const outage = isDatabaseOutage(err) ? await this.#records.report(err) : await this.#redis.report(err)
    if (!outage) this.#logger.warn({ ...fields, err }, message)
  }

  #pauseIntake(): void {
    for (const worker of this.#bullWorkers) {
      worker.pause(true).catch((err: unknown) => void this.#trouble(err, 'pausing a dispatch queue failed'))
    }
  }

  #resumeIntake(): void {
    if (this.#stopped !== null) return
    for (const worker of this.#bullWorkers) {
      worker.resume().catch((err: unknown) => void this.#trouble(err, 'resuming a dispatch queue failed'))
    }
  }

  get running(): number {
    return this.#local.size
  }

  async start(): Promise<void> {
    const { queue, redisUrl } = this.#options
    const lockMs = this.#options.lockMs ?? 30_000
    await this.#sweep()
    this.#cancels = durableClient(redisUrl)
    this.#cancels.on('error', () => {})
    this.#cancels.on('message', (_channel: string, jobId: string) => this.#onCancel(jobId))
    await this.#cancels.subscribe(queue.names.cancelChannel)
    for (const model of this.#options.models) {
      const connection = durableClient(redisUrl)
      this.#connections.push(connection)
      const worker = new BullWorker<DispatchTicket>(
        queue.names.queueFor(model),
        (job) => this.#process(job),
        {
          connection,
          prefix: queue.names.bullPrefix,
          concurrency: this.#concurrency,
          lockDuration: lockMs,
          stalledInterval: this.#options.stalledCheckMs ?? lockMs,
          // the record counts attempts and fails the job when they run out; BullMQ must not give up first
          maxStalledCount: 1000,
        },
      )
      worker.on('error', (err) => void this.#trouble(err, 'dispatch queue error', { model }))
      this.#bullWorkers.push(worker)
    }
    await this.#advertise()
    const every = (ms: number, task: () => Promise<unknown>) => {
      const timer = setInterval(() => {
        task().catch((err: unknown) => this.#trouble(err, 'fleet worker housekeeping failed'))
      }, ms)
      timer.unref()
      this.#timers.push(timer)
    }
    every(this.#options.advertiseEveryMs ?? 5000, () => this.#advertise())
    every(this.#options.sweepEveryMs ?? 10_000, () => this.#sweep())
  }

  /** Stops taking tickets, lets running jobs finish within `graceMs`, then requeues the rest. */
  stop(options: { readonly graceMs?: number } = {}): Promise<void> {
    this.#stopped ??= this.#stop(options.graceMs ?? 30_000)
    return this.#stopped
  }

  async #stop(graceMs: number): Promise<void> {
    for (const timer of this.#timers) clearInterval(timer)
    this.#records.stop()
    this.#redis.stop()
    const closing = Promise.all(this.#bullWorkers.map((worker) => worker.close()))
    let timer: NodeJS.Timeout | undefined
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), graceMs)
    })
    if ((await Promise.race([closing, late])) === 'late') {
      this.#abortRunning.abort(errors.JOB_INTERRUPTED('the worker is shutting down'))
    }
    clearTimeout(timer)
    await closing.catch((err: unknown) => this.#logger.warn({ err }, 'closing the dispatch queues failed'))
    await withdrawAdvert(this.#options.queue.redis, this.#options.queue.names, this.id).catch(() => {})
    this.#cancels?.disconnect()
    for (const connection of this.#connections) connection.disconnect()
  }

  async #process(ticket: BullJob<DispatchTicket>): Promise<string> {
    const jobId = ticket.data.jobId
    const slot = `${this.id}/${ticket.id ?? jobId}`
    // taken just before the pause began: BullMQ retries the ticket later, and `reconcile` writes it again
    // should its retries run out while the records stay unreachable
    if (this.#records.down) throw new TicketRequeued(jobId)
    // a running record means BullMQ found its worker stalled and handed the ticket to us
    const claimed = await this.#claimJob(jobId, slot, { takeOver: true }).catch(async (err: unknown) => {
      if (isDatabaseOutage(err)) await this.#records.report(err)
      throw err
    })
    if (claimed === null) return 'not claimable'
    this.#local.set(jobId, claimed)
    const started = Date.now()
    let outcome: JobOutcome
    try {
      outcome = await runJob(claimed, this.#abortRunning.signal, this.#deps)
    } catch (err) {
      // the run's end could not be recorded (its lease then expires and the job is recovered)
      if (isDatabaseOutage(err)) await this.#records.report(err)
      throw err
    } finally {
      this.#local.delete(jobId)
    }
    this.#options.onJobEnd?.(outcome, Date.now() - started)
    if (outcome === 'requeued') throw new TicketRequeued(jobId)
    return outcome
  }

  #onCancel(jobId: string): void {
    const claimed = this.#local.get(jobId)
    if (claimed === undefined) return
    // the heartbeat reads the flag from the record and fires the run's abort signal
    this.#options.queue.heartbeat(jobId, claimed.lease).catch(() => {})
  }

  async #advertise(): Promise<void> {
    const every = this.#options.advertiseEveryMs ?? 5000
    await advertise(
      this.#options.queue.redis,
      this.#options.queue.names,
      {
        id: this.id,
        host: hostname(),
        pid: process.pid,
        models: this.#options.models,
        slots: this.#concurrency * this.#options.models.length,
        busy: this.#local.size,
        at: Date.now(),
      },
      every * 3,
    )
  }

  async #sweep(): Promise<void> {
    const recovered = await this.#options.queue.recoverStale()
    if (recovered > 0)
      this.#logger.info({ recovered }, 'requeued jobs whose worker stopped renewing its lease')
    await this.#options.queue.reconcile()
  }
}
