/**
 * Settling a job's charge from how the job ended, and the sweep that catches every charge no in-process
 * transition settled: jobs finished by another process, queued jobs purged, jobs recovery failed after a
 * crash, and reservations whose submission never reached the queue.
 * @module
 */
import type { Job } from '../core/job.js'
import type { JobProducer } from '../jobs/job-queue.js'
import { costMilli, type ModelFactors, pixelSteps } from './cost.js'
import type { CreditLedger, Settlement } from './credit-ledger.js'

const TERMINAL = new Set(['succeeded', 'failed', 'canceled', 'expired'])

/** What a finished job costs: only succeeded jobs pay, and only for the images they made. */
export function settlementOf(job: Job, factors: ModelFactors): Settlement {
  const made = job.assetIds.length
  // An expired job no longer says whether it succeeded; its images and error still do.
  const succeeded = job.state === 'succeeded' || (job.state === 'expired' && job.error === null && made > 0)
  if (succeeded) {
    const settings = { ...job.request, n: made }
    return {
      outcome: 'succeeded',
      chargedMilli: costMilli(settings, factors),
      images: made,
      pixelSteps: pixelSteps(settings),
    }
  }
  const canceled = job.state === 'canceled' || (job.state === 'expired' && job.error === null)
  return { outcome: canceled ? 'canceled' : 'failed', chargedMilli: 0, images: 0, pixelSteps: 0 }
}

const LOST: Settlement = { outcome: 'lost', chargedMilli: 0, images: 0, pixelSteps: 0 }

export interface SettlerOptions {
  readonly factors: ModelFactors
  /** A reservation with no job after this long belongs to a submission that crashed (default 10 min). */
  readonly orphanAfterMs?: number
}

export class JobSettler {
  readonly #ledger: CreditLedger
  readonly #factors: ModelFactors
  readonly #orphanAfterMs: number

  constructor(ledger: CreditLedger, options: SettlerOptions) {
    this.#ledger = ledger
    this.#factors = options.factors
    this.#orphanAfterMs = options.orphanAfterMs ?? 10 * 60_000
  }

  /** Settles the job's charge if the job has ended; a no-op otherwise or when already settled. */
  async settleJob(job: Job): Promise<void> {
    if (!TERMINAL.has(job.state)) return
    const charge = await this.#ledger.chargeOfJob(job.id)
    if (charge === null || charge.state !== 'reserved') return
    await this.#ledger.settle(charge.id, settlementOf(job, this.#factors))
  }

  /** Settles every charge whose job ended; returns how many it settled. */
  async sweep(jobs: Pick<JobProducer, 'get'>, batch = 200): Promise<number> {
    let settled = 0
    for (;;) {
      const pending = await this.#ledger.unsettled({ orphanAfterMs: this.#orphanAfterMs, limit: batch })
      for (const { chargeId, jobId } of pending) {
        const job = jobId === null ? null : await jobs.get(jobId)
        const settlement = job === null ? LOST : settlementOf(job, this.#factors)
        if (await this.#ledger.settle(chargeId, settlement)) settled++
      }
      if (pending.length < batch) return settled
    }
  }
}
