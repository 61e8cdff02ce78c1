/**
 * Usage per key over a time range, read from the credit charges (one per submitted job, written when the job
 * ends). Charges outlive the jobs' retention, so usage stays answerable after the images are gone.
 * Counted by the time each job ended: a job still running is not usage yet.
 * @module
 */
import type { Kysely } from 'kysely'
import type { Database } from '../db/schema.js'

export interface UsageFilter {
  /** Inclusive. */
  readonly from: Date
  /** Exclusive. */
  readonly to: Date
  /** One key's usage; undefined = every key (null = requests made with auth off). */
  readonly keyId?: string | null
}

export interface KeyUsage {
  /** Null for requests made while auth was off. */
  readonly keyId: string | null
  readonly jobs: number
  readonly succeeded: number
  readonly failed: number
  readonly canceled: number
  readonly images: number
  readonly megapixelSteps: number
  /** Credits charged (succeeded jobs only). */
  readonly credits: number
}

/** One day of one model, for per-day reports such as Scenario's `/usages`. */
export interface DailyUsage {
  /** Midnight UTC, ISO 8601. */
  readonly day: string
  readonly model: string
  readonly jobs: number
  readonly images: number
  readonly credits: number
}

const PIXELS_PER_MEGAPIXEL = 2 ** 20
const DAY_MS = 86_400_000
/** Rows a daily report reads at most (a year of busy days is far below). */
const MAX_DAILY_ROWS = 100_000

export class UsageRepo {
  readonly #db: Kysely<Database>

  constructor(handle: { readonly db: Kysely<Database> }) {
    this.#db = handle.db
  }

  #ended(filter: UsageFilter) {
    return this.#db
      .selectFrom('credit_charges')
      .where('finished_at', '>=', filter.from.getTime())
      .where('finished_at', '<', filter.to.getTime())
      .where('job_id', 'is not', null)
      .where('outcome', 'in', ['succeeded', 'failed', 'canceled', 'lost'])
      .$if(filter.keyId !== undefined, (qb) =>
        filter.keyId === null ? qb.where('key_id', 'is', null) : qb.where('key_id', '=', filter.keyId ?? ''),
      )
  }

  /** Totals per key, ordered by key id. */
  async perKey(filter: UsageFilter): Promise<KeyUsage[]> {
    const rows = await this.#ended(filter)
      .select((eb) => [
        'key_id',
        eb.fn.countAll<number | string>().as('jobs'),
        eb.fn
          .sum<number | string>(eb.case().when('outcome', '=', 'succeeded').then(1).else(0).end())
          .as('succeeded'),
        eb.fn
          .sum<number | string>(eb.case().when('outcome', 'in', ['failed', 'lost']).then(1).else(0).end())
          .as('failed'),
        eb.fn
          .sum<number | string>(eb.case().when('outcome', '=', 'canceled').then(1).else(0).end())
          .as('canceled'),
        eb.fn.sum<number | string>('images').as('images'),
        eb.fn.sum<number | string>('pixel_steps').as('pixelSteps'),
        eb.fn.sum<number | string>('charged_milli').as('chargedMilli'),
      ])
      .groupBy('key_id')
      .orderBy('key_id')
      .execute()
    return rows.map((row) => ({
      keyId: row.key_id,
      jobs: Number(row.jobs),
      succeeded: Number(row.succeeded),
      failed: Number(row.failed),
      canceled: Number(row.canceled),
      images: Number(row.images),
      megapixelSteps: roundTo(Number(row.pixelSteps) / PIXELS_PER_MEGAPIXEL, 3),
      credits: Number(row.chargedMilli) / 1000,
    }))
  }

  /** Per day (UTC) and model, oldest first. */
  async daily(filter: UsageFilter): Promise<DailyUsage[]> {
    const rows = await this.#ended(filter)
      .select(['finished_at', 'model', 'images', 'charged_milli'])
      .orderBy('finished_at')
      .limit(MAX_DAILY_ROWS)
      .execute()
    const days = new Map<string, { jobs: number; images: number; milli: number }>()
    for (const row of rows) {
      const day = new Date(Math.floor((row.finished_at ?? 0) / DAY_MS) * DAY_MS).toISOString()
      const key = `${day}\u0000${row.model}`
      const sum = days.get(key) ?? { jobs: 0, images: 0, milli: 0 }
      days.set(key, {
        jobs: sum.jobs + 1,
        images: sum.images + row.images,
        milli: sum.milli + row.charged_milli,
      })
    }
    return [...days].map(([key, sum]) => {
      const [day, model] = key.split('\u0000')
      return { day, model, jobs: sum.jobs, images: sum.images, credits: sum.milli / 1000 }
    })
  }
}

function roundTo(value: number, decimals: number): number {
  const scale = 10 ** decimals
  return Math.round(value * scale) / scale
}
