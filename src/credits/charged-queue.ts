/**
 * Puts credits and per-key concurrency in front of a job queue, so every dialect's submission is charged
 * without knowing it: `enqueue` reserves the request's cost first (refusing with CREDITS_INSUFFICIENT or
 * RATE_LIMITED), and every transition that ends a job (cancel, complete, fail, acknowledged cancel,
 * recovery, purge) settles its charge. Everything else passes through to the queue.
 * @module
 */
import type { GenerationRequest } from '../core/generation-request.js'
import type { Job, JobError } from '../core/job.js'
import type { JobConsumer, JobMaintenance, JobProducer } from '../jobs/job-queue.js'
import { costMilli, type ModelFactors } from './cost.js'
import type { CreditLedger } from './credit-ledger.js'
import type { JobSettler } from './job-settlement.js'

type ChargeableQueue = JobProducer & Partial<JobConsumer & JobMaintenance>

export interface ChargeQueueOptions {
  readonly ledger: CreditLedger
  readonly settler: JobSettler
  readonly factors: ModelFactors
}

export function chargeQueue<Q extends ChargeableQueue>(queue: Q, options: ChargeQueueOptions): Q {
  const { ledger, settler, factors } = options
  const settled = async (job: Job): Promise<Job> => {
    await settler.settleJob(job)
    return job
  }
  const sweep = () => settler.sweep(queue)

  const overrides: Partial<ChargeableQueue> = {
    async enqueue(request: GenerationRequest, enqueueOptions?: { readonly maxAttempts?: number }) {
      const reservation = await ledger.reserve({
        keyId: request.origin.keyId,
        model: request.model,
        costMilli: costMilli(request, factors),
      })
      let job: Job
      try {
        job = await queue.enqueue(request, enqueueOptions)
      } catch (error) {
        await ledger.settle(reservation.chargeId, {
          outcome: 'rejected',
          chargedMilli: 0,
          images: 0,
          pixelSteps: 0,
        })
        throw error
      }
      await ledger.attach(reservation.chargeId, job.id)
      // A worker may have finished the job before the charge named it; settle that case now.
      const latest = await queue.get(job.id)
      if (latest !== null) await settler.settleJob(latest)
      return job
    },
    async cancel(id: string) {
      const job = await queue.cancel(id)
      return job === null ? null : settled(job)
    },
    async purge() {
      const count = await queue.purge()
      await sweep()
      return count
    },
    async complete(id: string, lease: string, assetIds: readonly string[]) {
      return settled(await queue.complete!(id, lease, assetIds))
    },
    async fail(id: string, lease: string, error: JobError, failOptions: { readonly retryable: boolean }) {
      return settled(await queue.fail!(id, lease, error, failOptions))
    },
    async acknowledgeCancel(id: string, lease: string) {
      return settled(await queue.acknowledgeCancel!(id, lease))
    },
    async recoverStale(now?: Date) {
      const count = await queue.recoverStale!(now)
      await sweep()
      return count
    },
    async expireFinished(now?: Date) {
      // Before expiry, while a job's state still says how it ended.
      await sweep()
      return queue.expireFinished!(now)
    },
  }

  return new Proxy(queue, {
    get(target, property) {
      // Only methods the queue has are wrapped (so the `!` calls above are safe).
      if (Object.hasOwn(overrides, property) && property in target) {
        return overrides[property as keyof ChargeableQueue]
      }
      // Methods of a class with #private fields must see the real queue as `this`.
      const value = Reflect.get(target, property, target)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
}
