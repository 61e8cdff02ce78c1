/**
 * The BullMQ side of dispatch: one queue per model, holding one small job per queued record (its BullMQ
 * job id is the record's id, so adding it twice is a no-op). The record in the database stays the truth;
 * a BullMQ job is only a ticket saying "this record wants a worker that has this model". Tickets lost with
 * Redis (a restart without persistence) are written again by `reconcile` from the records still queued.
 * @module
 */
import { Queue } from 'bullmq'
import type { Job } from '../../core/job.js'
import { bullPriority, type FleetNames } from './fleet-names.js'
import type { RedisClient } from './redis-clients.js'

export interface DispatchTicket {
  readonly jobId: string
}

export interface DispatcherOptions {
  readonly connection: RedisClient
  readonly names: FleetNames
  /** BullMQ tries per ticket; more than the record's attempts, since the record decides when to stop. */
  readonly ticketAttempts: number
  /** First BullMQ retry delay of a ticket whose run ended requeued (exponential after). */
  readonly retryBackoffMs: number
}

export interface DispatchEntry {
  readonly id: string
  readonly model: string
  readonly priority: number
}

export class Dispatcher {
  readonly #options: DispatcherOptions
  readonly #queues = new Map<string, Queue<DispatchTicket>>()

  constructor(options: DispatcherOptions) {
    this.#options = options
  }

  queueFor(model: string): Queue<DispatchTicket> {
    let queue = this.#queues.get(model)
    if (queue === undefined) {
      queue = new Queue<DispatchTicket>(this.#options.names.queueFor(model), {
        connection: this.#options.connection,
        prefix: this.#options.names.bullPrefix,
      })
      // errors surface on the calls that failed; this only keeps the emitter from throwing
      queue.on('error', () => {})
      this.#queues.set(model, queue)
    }
    return queue
  }

  async dispatch(job: Pick<Job, 'id' | 'priority'> & { readonly model: string }): Promise<void> {
    await this.dispatchMany([{ id: job.id, model: job.model, priority: job.priority }])
  }

  /** Adds tickets (grouped per model); tickets that already exist are left as they are. */
  async dispatchMany(entries: readonly DispatchEntry[]): Promise<void> {
    const byModel = new Map<string, DispatchEntry[]>()
    for (const entry of entries) byModel.set(entry.model, [...(byModel.get(entry.model) ?? []), entry])
    await Promise.all(
      [...byModel].map(([model, group]) =>
        this.queueFor(model).addBulk(
          group.map((entry) => ({
            name: 'generate',
            data: { jobId: entry.id },
            opts: {
              jobId: entry.id,
              priority: bullPriority(entry.priority),
              attempts: this.#options.ticketAttempts,
              backoff: { type: 'exponential', delay: Math.max(1, this.#options.retryBackoffMs) },
              removeOnComplete: true,
              removeOnFail: true,
            },
          })),
        ),
      ),
    )
  }

  /** Drops a canceled record's waiting ticket; a ticket already taken is harmless (its claim fails). */
  async withdraw(model: string, id: string): Promise<void> {
    await this.queueFor(model)
      .remove(id)
      .catch(() => 0)
  }

  /** Tickets waiting per model (for readiness and metrics). */
  async waiting(models: readonly string[]): Promise<Record<string, number>> {
    const counts = await Promise.all(
      models.map(async (model) => {
        const c = await this.queueFor(model).getJobCounts('waiting', 'prioritized', 'delayed')
        return [model, (c.waiting ?? 0) + (c.prioritized ?? 0) + (c.delayed ?? 0)] as const
      }),
    )
    return Object.fromEntries(counts)
  }

  async close(): Promise<void> {
    await Promise.all([...this.#queues.values()].map((queue) => queue.close()))
    this.#queues.clear()
  }
}
