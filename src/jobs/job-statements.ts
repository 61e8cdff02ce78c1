/**
 * Every SQL statement of the database queue, one function each, written once for SQLite and Postgres.
 * Each state change is a single guarded UPDATE (BullMQ: one transition, one atomic script): it names the
 * state it expects and, for running jobs, the lease, so a stale writer changes nothing.
 * @module
 */
import type { ExpressionBuilder, Kysely, Updateable } from 'kysely'
import type { JobState } from '../core/job.js'
import type { DialectName } from '../db/connect.js'
import { type ListPosition, newestFirst } from '../db/cursor.js'
import type { Database, JobRow, JobsTable } from '../db/schema.js'
import type { JobFilter } from './job-queue.js'

type Db = Kysely<Database>

export const FINISHED_STATES: readonly JobState[] = ['succeeded', 'failed', 'canceled']

export async function insertJob(db: Db, row: JobRow): Promise<void> {
  await db.insertInto('jobs').values(row).execute()
}

export async function selectJob(db: Db, id: string): Promise<JobRow | undefined> {
  return db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst()
}

export async function countQueued(db: Db): Promise<number> {
  const row = await db
    .selectFrom('jobs')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('state', '=', 'queued')
    .executeTakeFirstOrThrow()
  return Number(row.n)
}

/** Run times (ms) of the most recently finished successful jobs, newest first. */
export async function recentDurations(db: Db, limit: number): Promise<number[]> {
  const rows = await db
    .selectFrom('jobs')
    .select(['started_at', 'finished_at'])
    .where('state', 'in', ['succeeded', 'expired'])
    .where('started_at', 'is not', null)
    .where('finished_at', 'is not', null)
    .orderBy('finished_at', 'desc')
    .limit(limit)
    .execute()
  return rows.map((r) => Number(r.finished_at) - Number(r.started_at)).filter((ms) => ms >= 0)
}

export interface ClaimValues {
  readonly now: number
  readonly lease: string
  readonly leaseExpiresAt: number
  readonly workerId: string
  readonly instanceId: string
  readonly models?: readonly string[]
}

/** The columns a claim sets, whichever way the job was chosen: running under a new lease, one more attempt. */
function claimed(v: ClaimValues) {
  return (eb: ExpressionBuilder<Database, 'jobs'>) => ({
    state: 'running' as const,
    attempts: eb('attempts', '+', 1),
    seq: eb('seq', '+', 1),
    started_at: v.now,
    progress: null,
    lease_token: v.lease,
    lease_expires_at: v.leaseExpiresAt,
    worker_id: v.workerId,
    instance_id: v.instanceId,
  })
}

/**
 * Moves the next queued job (priority, then age, then id) to running in one statement. Postgres locks the
 * chosen row with SKIP LOCKED so concurrent claimers pick different jobs; SQLite runs writes one at a time.
 */
export async function claimNext(db: Db, dialect: DialectName, v: ClaimValues): Promise<JobRow | undefined> {
  if (v.models !== undefined && v.models.length === 0) return undefined
  return db
    .updateTable('jobs')
    .set(claimed(v))
    .where('state', '=', 'queued')
    .where((eb) =>
      eb(
        'id',
        '=',
        eb
          .selectFrom('jobs')
          .select('id')
          .where('state', '=', 'queued')
          .where('available_at', '<=', v.now)
          .where('cancel_requested', '=', 0)
          .$if(v.models !== undefined, (qb) => qb.where('model', 'in', v.models ?? []))
          .orderBy('priority', 'desc')
          .orderBy('created_at', 'asc')
          .orderBy('id', 'asc')
          .limit(1)
          .$if(dialect === 'postgres', (qb) => qb.forUpdate().skipLocked()),
      ),
    )
    .returningAll()
    .executeTakeFirst()
}

/**
 * Moves one named job to running: a queued one, or (`expectLease`) a running one under that lease, which a
 * dispatcher hands to a new worker after the old one stopped answering. Counts an attempt either way.
 */
export async function claimById(
  db: Db,
  id: string,
  v: ClaimValues,
  expectLease?: string,
): Promise<JobRow | undefined> {
  return db
    .updateTable('jobs')
    .set(claimed(v))
    .where('id', '=', id)
    .where('cancel_requested', '=', 0)
    .$if(expectLease === undefined, (qb) => qb.where('state', '=', 'queued'))
    .$if(expectLease !== undefined, (qb) =>
      qb.where('state', '=', 'running').where('lease_token', '=', expectLease ?? ''),
    )
    .returningAll()
    .executeTakeFirst()
}

/** A change to a job in the given state, and when `lease` is given, only under that lease. */
export async function updateJob(
  db: Db,
  id: string,
  expect: { readonly state: JobState; readonly lease?: string; readonly cancelRequested?: number },
  values: Updateable<JobsTable>,
  bumpSeq: boolean,
): Promise<JobRow | undefined> {
  return db
    .updateTable('jobs')
    .set((eb) => (bumpSeq ? { ...values, seq: eb('seq', '+', 1) } : values))
    .where('id', '=', id)
    .where('state', '=', expect.state)
    .$if(expect.lease !== undefined, (qb) => qb.where('lease_token', '=', expect.lease ?? ''))
    .$if(expect.cancelRequested !== undefined, (qb) =>
      qb.where('cancel_requested', '=', expect.cancelRequested ?? 0),
    )
    .returningAll()
    .executeTakeFirst()
}

/** Cancels every queued job at once. */
export async function cancelAllQueued(db: Db, now: number, expiresAt: number): Promise<JobRow[]> {
  return db
    .updateTable('jobs')
    .set((eb) => ({ state: 'canceled', finished_at: now, expires_at: expiresAt, seq: eb('seq', '+', 1) }))
    .where('state', '=', 'queued')
    .returningAll()
    .execute()
}

/** Running jobs whose lease ran out, plus (when `foreignTo` is set) those claimed by another instance. */
export async function selectStale(db: Db, now: number, foreignTo?: string): Promise<JobRow[]> {
  return db
    .selectFrom('jobs')
    .selectAll()
    .where('state', '=', 'running')
    .where((eb) => {
      const expired = eb('lease_expires_at', '<=', now)
      if (foreignTo === undefined) return expired
      return eb.or([expired, eb('instance_id', 'is', null), eb('instance_id', '!=', foreignTo)])
    })
    .execute()
}

/** Moves finished jobs past `expires_at` to expired, returning them. */
export async function expireDue(db: Db, now: number): Promise<JobRow[]> {
  return db
    .updateTable('jobs')
    .set((eb) => ({ state: 'expired', seq: eb('seq', '+', 1) }))
    .where('state', 'in', FINISHED_STATES)
    .where('expires_at', '<=', now)
    .returningAll()
    .execute()
}

/** Queued jobs that run before the given one. */
export async function countAhead(db: Db, row: JobRow): Promise<number> {
  const result = await db
    .selectFrom('jobs')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('state', '=', 'queued')
    .where((eb) =>
      eb.or([
        eb('priority', '>', row.priority),
        eb.and([
          eb('priority', '=', row.priority),
          eb.or([
            eb('created_at', '<', row.created_at),
            eb.and([eb('created_at', '=', row.created_at), eb('id', '<', row.id)]),
          ]),
        ]),
      ]),
    )
    .executeTakeFirstOrThrow()
  return Number(result.n)
}

export async function countByState(db: Db): Promise<{ states: Map<string, number>; retried: number }> {
  const rows = await db
    .selectFrom('jobs')
    .select((eb) => ['state', eb.fn.countAll<number>().as('n')])
    .groupBy('state')
    .execute()
  const retried = await db
    .selectFrom('jobs')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('attempts', '>', 1)
    .executeTakeFirstOrThrow()
  return { states: new Map(rows.map((r) => [r.state, Number(r.n)])), retried: Number(retried.n) }
}

/** Newest first, `limit` rows after `after`. */
export async function listJobs(
  db: Db,
  filter: JobFilter,
  limit: number,
  after: ListPosition | null,
): Promise<JobRow[]> {
  const states = filter.state === undefined ? undefined : ([] as JobState[]).concat(filter.state)
  return newestFirst(db.selectFrom('jobs').selectAll(), filter, after, limit)
    .$if(states !== undefined, (qb) => qb.where('state', 'in', states ?? []))
    .$if(filter.model !== undefined, (qb) => qb.where('model', '=', filter.model ?? ''))
    .execute()
}
