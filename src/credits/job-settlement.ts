/**
 * Settling a job's charge from how the job ended, and the sweep that catches every charge no in-process
 * transition settled: jobs finished by another process, queued jobs purged, jobs recovery failed after a
 * crash, and reservations whose submission never reached the queue.
 * @module
 */
import type { Job } from '../core/job.js'
import type { JobProducer } from '../jobs/job-queue.js'
import { costMilli, type ModelFactors, pixelSteps } from './cost.js'
import type { ChargePosition, CreditLedger, ReservedCharge, Settlement } from './credit-ledger.js'

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
  readonly clock?: () => number
}

export class JobSettler {
  readonly #ledger: CreditLedger
  readonly #factors: ModelFactors
  readonly #orphanAfterMs: number
  readonly #clock: () => number

  constructor(ledger: CreditLedger, options: SettlerOptions) {
    this.#ledger = ledger
    this.#factors = options.factors
    this.#orphanAfterMs = options.orphanAfterMs ?? 10 * 60_000
    this.#clock = options.clock ?? Date.now
  }

  /** Settles the job's charge if the job has ended; a no-op otherwise or when already settled. */
  async settleJob(job: Job): Promise<void> {
    if (!TERMINAL.has(job.state)) return
    const charge = await this.#ledger.chargeOfJob(job.id)
    if (charge === null || charge.state !== 'reserved') return
    await this.#ledger.settle(charge.id, settlementOf(job, this.#factors))
  }

  /** Settles every charge whose job ended, vanished, or never got queued; returns how many it settled. */
  async sweep(jobs: Pick<JobProducer, 'get'>, batch = 200): Promise<number> {
    const orphanBefore = this.#clock() - this.#orphanAfterMs
    let settled = 0
    let after: ChargePosition | undefined
    for (;;) {
      const page = await this.#ledger.reserved({ ...(after === undefined ? {} : { after }), limit: batch })
      for (const charge of page) {
        const settlement = await this.#settlementFor(jobs, charge, orphanBefore)
        if (settlement !== null && (await this.#ledger.settle(charge.chargeId, settlement))) settled++
      }
      if (page.length < batch) return settled
      after = page[page.length - 1]
    }
  }

  async #settlementFor(
    jobs: Pick<JobProducer, 'get'>,
    charge: ReservedCharge,
    orphanBefore: number,
  ): Promise<Settlement | null> {
    if (charge.jobId === null) return charge.createdAt < orphanBefore ? LOST : null
    const job = await jobs.get(charge.jobId)
    if (job === null) return LOST
    return TERMINAL.has(job.state) ? settlementOf(job, this.#factors) : null
  }
}
