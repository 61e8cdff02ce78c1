/**
 * `Idempotency-Key` on generation routes, for every dialect: a client that lost its answer (a dropped
 * connection, a server restart while it waited) retries with the same key and gets the job its first request
 * made, finished or still running, without paying again. The key is scoped to the API key; a different request
 * under a key already used is refused (422 IDEMPOTENCY_KEY_REUSED) rather than answered with another job's
 * images. A route passes `idempotencyOf(request)` to `submitGeneration`; the records live in the database
 * (`idempotency-store.ts`), so they survive restarts and are shared by API processes.
 * @module
 */
import { createHash } from 'node:crypto'
import type { FastifyRequest } from 'fastify'
import { errors } from '../../core/errors.js'
import type { Job } from '../../core/job.js'
import type { IdempotencyRef, IdempotencyStore } from './idempotency-store.js'

export const IDEMPOTENCY_HEADER = 'idempotency-key'
const FIELD = 'Idempotency-Key'
/** Visible ASCII, as the IETF draft and Stripe use (a UUID fits many times over). */
const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/

/** What a request asks for: its key, and a fingerprint of the request the key stands for. */
export interface IdempotencyClaim {
  readonly key: string
  readonly fingerprint: string
}

/**
 * The request's Idempotency-Key and a fingerprint of what it asks for (the route, its path parameters and its
 * body, whatever the order of the body's keys); undefined without the header. A malformed key is a 400.
 */
export function idempotencyOf(request: FastifyRequest): IdempotencyClaim | undefined {
  const raw = request.headers[IDEMPOTENCY_HEADER]
  if (raw === undefined) return undefined
  if (typeof raw !== 'string' || !KEY_PATTERN.test(raw)) {
    throw errors.VALIDATION_FAILED(`${FIELD} must be one value of 1 to 255 visible ASCII characters`, {
      field: FIELD,
    })
  }
  const subject = {
    method: request.method,
    route: request.routeOptions.url,
    params: request.params,
    body: request.body,
  }
  return { key: raw, fingerprint: createHash('sha256').update(stableJson(subject)).digest('hex') }
}

/** JSON with object keys sorted, so `{a, b}` and `{b, a}` are the same request (the body parser bounds depth). */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${stableJson(item)}`).join(',')}}`
  }
  return JSON.stringify(value) ?? 'null'
}

/** Jobs handed back for a repeated key, so a dialect does not redo what their first request did (webhooks). */
const replayed = new WeakSet<Job>()

export function isReplayed(job: Job): boolean {
  return replayed.has(job)
}

/** How long a duplicate waits for the first request to finish creating its job. */
const PENDING_WAIT_MS = 5_000
const PENDING_POLL_MS = 50
/** A claim still without a job after this long was left by a process that died mid-request. */
const STALE_PENDING_MS = 60_000
const SWEEP_EVERY_MS = 60_000
let nextSweepAt = 0

export interface SubmitOnceContext {
  readonly store: IdempotencyStore
  readonly scope: string
  readonly claim: IdempotencyClaim
  /** How long a key is remembered (the retention period); longer while its job is kept. */
  readonly keepMs: number
  readonly get: (jobId: string) => Promise<Job | null>
}

/** Creates the job once per (scope, key): the first request runs `create`, later ones get its job. */
export async function submitOnce(context: SubmitOnceContext, create: () => Promise<Job>): Promise<Job> {
  const { store, claim } = context
  const ref: IdempotencyRef = { scope: context.scope, key: claim.key }
  const deadline = Date.now() + PENDING_WAIT_MS
  for (;;) {
    const now = Date.now()
    const seen = await store.claim(ref, claim.fingerprint, now, now + context.keepMs)
    if (seen === null) {
      if (now >= nextSweepAt) {
        nextSweepAt = now + SWEEP_EVERY_MS
        void store.sweep(now).catch(() => undefined)
      }
      let job: Job
      try {
        job = await create()
      } catch (error) {
        // nothing was made: a retry with this key may try again
        await store.release(ref, { jobId: null, createdAt: now }).catch(() => undefined)
        throw error
      }
      await store.attach(ref, job.id)
      return job
    }
    if (seen.fingerprint !== claim.fingerprint) {
      throw errors.IDEMPOTENCY_KEY_REUSED(
        `${FIELD} "${claim.key}" was already used for a different request; use a new key for a new request`,
        { field: FIELD },
      )
    }
    if (seen.jobId !== null) {
      const job = await context.get(seen.jobId)
      if (job !== null && job.state !== 'expired') {
        replayed.add(job)
        return job
      }
      // its job is past retention: the key is free again
      await store.release(ref, seen)
    } else if (now - seen.createdAt > STALE_PENDING_MS) {
      await store.release(ref, seen)
    } else if (now > deadline) {
      throw errors.CONFLICT(`a request with ${FIELD} "${claim.key}" is still being accepted; retry shortly`, {
        field: FIELD,
        retryAfterSeconds: 1,
      })
    } else {
      await new Promise((resolve) => setTimeout(resolve, PENDING_POLL_MS))
    }
  }
}
