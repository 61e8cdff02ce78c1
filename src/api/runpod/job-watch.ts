/**
 * What RunPod promises about a queued job beyond Pigment's own lifecycle: `policy.executionTimeout` (stop a
 * job that runs too long), `policy.ttl` (stop a job not finished that long after submission) — both end as
 * TIMED_OUT — and `webhook` (POST the final status when the job ends). Kept in this process's memory: after a
 * restart the jobs themselves survive, their RunPod timers and webhooks do not.
 * @module
 */
import type { FastifyBaseLogger } from 'fastify'
import { type Job, TERMINAL_STATES } from '../../core/job.js'
import type { JobEvents, JobProducer } from '../../jobs/job-queue.js'
import { deliverWebhook, type WebhookPolicy } from './webhook.js'

export interface WatchOptions {
  readonly webhook?: URL
  readonly executionTimeoutMs?: number
  readonly ttlMs?: number
}

export interface JobWatchSettings {
  readonly jobs: JobProducer & JobEvents
  /** The body RunPod sends to a webhook: the job's final status. */
  readonly render: (job: Job) => Promise<unknown>
  readonly logger: FastifyBaseLogger
  readonly webhookPolicy: WebhookPolicy
  /** How long a timed-out job keeps reading TIMED_OUT (the server's retention). */
  readonly rememberMs: number
}

export class JobWatch {
  readonly #settings: JobWatchSettings
  readonly #timedOut = new Set<string>()
  readonly #active = new Map<string, () => void>()
  readonly #deliveries = new Set<Promise<unknown>>()

  constructor(settings: JobWatchSettings) {
    this.#settings = settings
  }

  /** True when this server stopped the job for its execution policy. */
  isTimedOut(id: string): boolean {
    return this.#timedOut.has(id)
  }

  watch(job: Job, options: WatchOptions): void {
    if (
      options.webhook === undefined &&
      options.executionTimeoutMs === undefined &&
      options.ttlMs === undefined
    ) {
      return
    }
    const timers: NodeJS.Timeout[] = []
    const later = (ms: number, action: () => void) => timers.push(setTimeout(action, Math.max(0, ms)).unref())
    let finished = false
    const dispose = () => {
      for (const timer of timers) clearTimeout(timer)
      unsubscribe()
      this.#active.delete(job.id)
    }
    if (options.ttlMs !== undefined) {
      later(options.ttlMs - (Date.now() - job.createdAt.getTime()), () => void this.#timeOut(job.id))
    }
    const unsubscribe = this.#settings.jobs.subscribe(
      job.id,
      (event) => {
        if (finished) return
        if (event.type === 'started' && options.executionTimeoutMs !== undefined) {
          later(options.executionTimeoutMs, () => void this.#timeOut(job.id))
        }
        if (!TERMINAL_STATES.has(event.job.state)) return
        finished = true
        dispose()
        const webhook = options.webhook
        if (webhook !== undefined) this.notify(webhook, () => this.#settings.render(event.job), job.id)
      },
      0,
    )
    this.#active.set(job.id, dispose)
  }

  /** Stops every timer and waits for webhooks already on their way. */
  async close(): Promise<void> {
    for (const dispose of [...this.#active.values()]) dispose()
    await Promise.allSettled([...this.#deliveries])
  }

  async #timeOut(id: string): Promise<void> {
    const job = await this.#settings.jobs.get(id)
    if (job === null || TERMINAL_STATES.has(job.state)) return
    this.#timedOut.add(id)
    setTimeout(() => this.#timedOut.delete(id), this.#settings.rememberMs).unref()
    this.#settings.logger.info({ jobId: id }, 'runpod: job exceeded its execution policy; canceling')
    await this.#settings.jobs.cancel(id)
  }

  /** POSTs a final status body to a webhook in the background (also for jobs that never queued). */
  notify(url: URL, body: () => Promise<unknown>, jobId: string): void {
    const { logger, webhookPolicy } = this.#settings
    const delivery = (async () => {
      const report = await deliverWebhook(url, await body(), webhookPolicy)
      if (report.delivered) logger.info({ jobId, attempts: report.attempts }, 'runpod: webhook delivered')
      else logger.warn({ jobId, ...report }, 'runpod: webhook not delivered')
    })().catch((error: unknown) => logger.error({ jobId, err: error }, 'runpod: webhook failed'))
    this.#deliveries.add(delivery)
    void delivery.finally(() => this.#deliveries.delete(delivery))
  }
}
