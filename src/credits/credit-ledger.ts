/**
 * Credit accounting in the records database. Every submitted job gets a charge: `reserve` takes its cost off
 * the key's balance (and counts it against the key's concurrency) with one conditional UPDATE, so
 * concurrent submissions can never overdraw a balance or exceed a limit; `settle` ends the charge exactly
 * once when the job ends, keeping what the job actually cost and giving the rest back. Each step appends to
 * `credit_ledger`, so a balance always equals the sum of its key's entries.
 *
 *   reserve ──▶ reserved ──settle (succeeded)──────────────▶ settled   ledger: reserve −cost, settle +unused
 *                  └──────settle (failed, canceled, lost…)─▶ refunded  ledger: reserve −cost, refund +cost
 * @module
 */
import { type Kysely, sql } from 'kysely'
import { errors } from '../core/errors.js'
import { newId } from '../core/ids.js'
import type { DialectName } from '../db/connect.js'
import type { CreditChargeRow, Database } from '../db/schema.js'
import { insertLedger } from '../keys/key-store.js'

export type ChargeOutcome = 'succeeded' | 'failed' | 'canceled' | 'rejected' | 'lost'

export interface Reservation {
  readonly chargeId: string
  /** The key's balance after the reservation, in milli-credits; null = unlimited or not a stored key. */
  readonly remainingMilli: number | null
}

export interface ChargeRequest {
  /** Null when auth is off (recorded for usage, never limited). */
  readonly keyId: string | null
  readonly model: string
  readonly costMilli: number
}

export interface Settlement {
  readonly outcome: ChargeOutcome
  /** What the job actually cost; ignored (0) for anything but `succeeded`, and never above the reservation. */
  readonly chargedMilli: number
  readonly images: number
  readonly pixelSteps: number
}

export interface CreditLedgerOptions {
  readonly clock?: () => number
  /** Retry-After for a key at its concurrency limit when it has no finished jobs to learn from. */
  readonly assumedJobSeconds?: number
}

const DURATION_SAMPLE = 20

export class CreditLedger {
  readonly #db: Kysely<Database>
  readonly #clock: () => number
  readonly #assumedJobSeconds: number

  constructor(
    handle: { readonly db: Kysely<Database>; readonly dialect: DialectName },
    options: CreditLedgerOptions = {},
  ) {
    this.#db = handle.db
    this.#clock = options.clock ?? Date.now
    this.#assumedJobSeconds = options.assumedJobSeconds ?? 10
  }

  /**
   * Reserves the cost on the key. Throws CREDITS_INSUFFICIENT when the balance cannot pay, RATE_LIMITED
   * (with Retry-After) when the key already has its limit of queued + running jobs. Keys that are not in
   * the table (configuration keys, auth off) are recorded for usage and never limited.
   */
  async reserve(request: ChargeRequest): Promise<Reservation> {
    const now = this.#clock()
    const chargeId = newId(now)
    const cost = request.costMilli
    const outcome = await this.#db.transaction().execute(async (trx) => {
      const taken =
        request.keyId === null
          ? undefined
          : await trx
              .updateTable('api_keys')
              .set({
                credits_milli: sql<
                  number | null
                >`case when credits_milli is null then null else credits_milli - ${cost} end`,
                active_jobs: sql<number>`active_jobs + 1`,
              })
              .where('id', '=', request.keyId)
              .where('revoked_at', 'is', null)
              .where((eb) => eb.or([eb('credits_milli', 'is', null), eb('credits_milli', '>=', cost)]))
              .where((eb) =>
                eb.or([eb('concurrency', 'is', null), eb('active_jobs', '<', eb.ref('concurrency'))]),
              )
              .returning(['credits_milli'])
              .executeTakeFirst()
      if (taken === undefined && request.keyId !== null) {
        const refusal = await this.#refusal(trx, request.keyId, cost)
        if (refusal !== null) return refusal
      }
      const debited = taken !== undefined && taken.credits_milli !== null
      await trx
        .insertInto('credit_charges')
        .values({
          id: chargeId,
          key_id: request.keyId,
          job_id: null,
          model: request.model,
          state: 'reserved',
          reserved_milli: cost,
          charged_milli: 0,
          debited: debited ? 1 : 0,
          counted: taken === undefined ? 0 : 1,
          outcome: null,
          images: 0,
          pixel_steps: 0,
          created_at: now,
          finished_at: null,
        })
        .execute()
      if (debited && request.keyId !== null) {
        await insertLedger(trx, { keyId: request.keyId, chargeId, kind: 'reserve', amountMilli: -cost, now })
      }
      return { chargeId, remainingMilli: taken?.credits_milli ?? null }
    })
    if (outcome instanceof Error) throw outcome
    return outcome
  }

  /** Why a stored key's reservation was refused; null when the key is not stored (no limits apply). */
  async #refusal(trx: Kysely<Database>, keyId: string, cost: number): Promise<Error | null> {
    const key = await trx
      .selectFrom('api_keys')
      .select(['credits_milli', 'concurrency', 'active_jobs', 'revoked_at'])
      .where('id', '=', keyId)
      .executeTakeFirst()
    if (key === undefined) return null
    if (key.revoked_at !== null) return errors.AUTH_UNAUTHORIZED('This API key has been revoked.')
    if (key.credits_milli !== null && key.credits_milli < cost) {
      return errors.CREDITS_INSUFFICIENT(
        `Insufficient Credits: this request costs ${cost / 1000} credits and the key has ${key.credits_milli / 1000}.`,
        { details: { costCredits: cost / 1000, remainingCredits: key.credits_milli / 1000 } },
      )
    }
    const retryAfterSeconds = await this.#typicalJobSeconds(trx, keyId)
    return errors.RATE_LIMITED(
      `This key already has ${key.active_jobs} jobs queued or running (its limit is ${key.concurrency}); ` +
        `retry in ${retryAfterSeconds} s.`,
      { retryAfterSeconds, details: { concurrency: key.concurrency } },
    )
  }

  /** How long the key's recent jobs took, as a guess at when one of its slots frees up. */
  async #typicalJobSeconds(trx: Kysely<Database>, keyId: string): Promise<number> {
    const recent = await trx
      .selectFrom('credit_charges')
      .select(['created_at', 'finished_at'])
      .where('key_id', '=', keyId)
      .where('finished_at', 'is not', null)
      .orderBy('finished_at', 'desc')
      .limit(DURATION_SAMPLE)
      .execute()
    const spans = recent.map((row) => (row.finished_at ?? row.created_at) - row.created_at)
    const averageMs =
      spans.length === 0 ? this.#assumedJobSeconds * 1000 : spans.reduce((a, b) => a + b, 0) / spans.length
    return Math.min(3600, Math.max(1, Math.ceil(averageMs / 1000)))
  }

  /** Links a reservation to the job it paid for. */
  async attach(chargeId: string, jobId: string): Promise<void> {
    await this.#db.updateTable('credit_charges').set({ job_id: jobId }).where('id', '=', chargeId).execute()
  }

  async chargeOfJob(jobId: string): Promise<CreditChargeRow | null> {
    const row = await this.#db
      .selectFrom('credit_charges')
      .selectAll()
      .where('job_id', '=', jobId)
      .executeTakeFirst()
    return row ?? null
  }

  /**
   * Ends a reservation: keeps what the job cost (only when it succeeded) and gives the rest back to the
   * balance, and frees its concurrency slot. Idempotent: false when the charge was already settled.
   */
  async settle(chargeId: string, settlement: Settlement): Promise<boolean> {
    const now = this.#clock()
    const succeeded = settlement.outcome === 'succeeded'
    return this.#db.transaction().execute(async (trx) => {
      // The state change comes first: it is the write that makes settling exactly-once.
      const charge = await trx
        .updateTable('credit_charges')
        .set({
          state: succeeded ? 'settled' : 'refunded',
          outcome: settlement.outcome,
          images: settlement.images,
          pixel_steps: settlement.pixelSteps,
          finished_at: now,
        })
        .where('id', '=', chargeId)
        .where('state', '=', 'reserved')
        .returningAll()
        .executeTakeFirst()
      if (charge === undefined) return false
      const charged = succeeded ? Math.min(Math.max(0, settlement.chargedMilli), charge.reserved_milli) : 0
      if (charged !== 0) {
        await trx
          .updateTable('credit_charges')
          .set({ charged_milli: charged })
          .where('id', '=', chargeId)
          .execute()
      }
      const giveBack = charge.debited === 1 ? charge.reserved_milli - charged : 0
      if (charge.key_id === null || (charge.counted === 0 && charge.debited === 0)) return true
      const key = await trx
        .updateTable('api_keys')
        .set({
          credits_milli: sql<
            number | null
          >`case when credits_milli is null then null else credits_milli + ${giveBack} end`,
          active_jobs: sql<number>`active_jobs - ${charge.counted}`,
        })
        .where('id', '=', charge.key_id)
        .returning('credits_milli')
        .executeTakeFirst()
      // A key made unlimited meanwhile has an empty ledger (see KeyStore.update): nothing to give back to.
      if (charge.debited === 1 && key !== undefined && key.credits_milli !== null) {
        await insertLedger(trx, {
          keyId: charge.key_id,
          chargeId,
          kind: succeeded ? 'settle' : 'refund',
          amountMilli: giveBack,
          now,
        })
      }
      return true
    })
  }

  /**
   * Reserved charges in creation order, a page at a time (pass the last one back as `after`). The settler
   * asks the queue how each one's job is doing: the queue, not this table, knows where jobs live.
   */
  async reserved(options: {
    readonly after?: ChargePosition
    readonly limit: number
  }): Promise<ReservedCharge[]> {
    const { after } = options
    const rows = await this.#db
      .selectFrom('credit_charges')
      .select(['id', 'job_id', 'created_at'])
      .where('state', '=', 'reserved')
      .$if(after !== undefined, (qb) =>
        qb.where((eb) =>
          eb.or([
            eb('created_at', '>', after?.createdAt ?? 0),
            eb.and([eb('created_at', '=', after?.createdAt ?? 0), eb('id', '>', after?.chargeId ?? '')]),
          ]),
        ),
      )
      .orderBy('created_at')
      .orderBy('id')
      .limit(options.limit)
      .execute()
    return rows.map((row) => ({ chargeId: row.id, jobId: row.job_id, createdAt: row.created_at }))
  }

  /** The key's balance in milli-credits; null = unlimited; undefined = no such key. */
  async balance(keyId: string): Promise<number | null | undefined> {
    const row = await this.#db
      .selectFrom('api_keys')
      .select('credits_milli')
      .where('id', '=', keyId)
      .executeTakeFirst()
    return row === undefined ? undefined : row.credits_milli
  }

  /** The sum of the key's ledger entries, which equals its balance (for audits and tests). */
  async ledgerTotal(keyId: string): Promise<number> {
    const row = await this.#db
      .selectFrom('credit_ledger')
      .select((eb) => eb.fn.sum<number | string | null>('amount_milli').as('total'))
      .where('key_id', '=', keyId)
      .executeTakeFirst()
    return Number(row?.total ?? 0)
  }
}

export interface ChargePosition {
  readonly chargeId: string
  readonly createdAt: number
}

export interface ReservedCharge extends ChargePosition {
  /** Null until the job is queued (or forever, when the submission crashed in between). */
  readonly jobId: string | null
}
