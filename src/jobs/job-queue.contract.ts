/**
 * The behaviour every JobQueue must show, as one suite each implementation runs
 * (`describeJobQueueContract('sqlite', makeQueue)`). Time is a fake clock the suite moves by hand.
 * @module
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { isPigmentError } from '../core/errors.js'
import type { JobEvent, JobQueue } from './job-queue.js'
import { sampleRequest } from './test-requests.js'

export interface ContractQueueOptions {
  readonly clock: () => number
  readonly maxQueued: number
  readonly retentionMs: number
  readonly leaseMs: number
  readonly maxAttempts: number
  readonly retryBackoffMs: number
}

export interface QueueFixture {
  readonly queue: JobQueue
  /** Another queue over the same records, as the process restarted after a crash would open it. */
  restart(): Promise<JobQueue>
  /** Closes every queue it made and drops the records. */
  close(): Promise<void>
}

export type MakeQueue = (options: ContractQueueOptions) => Promise<QueueFixture>

const START = Date.UTC(2026, 0, 2, 3, 4, 5)
const OPTIONS = { maxQueued: 5, retentionMs: 60_000, leaseMs: 10_000, maxAttempts: 3, retryBackoffMs: 1000 }

async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  )
  expect(isPigmentError(error) ? error.code : error).toBe(code)
}

export function describeJobQueueContract(name: string, makeQueue: MakeQueue): void {
  describe(`JobQueue contract: ${name}`, () => {
    let now = START
    let fixture: QueueFixture
    let queue: JobQueue
    const advance = (ms: number) => {
      now += ms
    }

    beforeEach(async () => {
      now = START
      fixture = await makeQueue({ ...OPTIONS, clock: () => now })
      queue = fixture.queue
    })
    afterEach(async () => {
      await fixture.close()
    })

    async function claimOrThrow(workerId = 'w1') {
      const claimed = await queue.claim(workerId)
      if (claimed === null) throw new Error('expected a job to claim')
      return claimed
    }

    describe('enqueue and claim', () => {
      it('stores a queued job that get returns', async () => {
        const job = await queue.enqueue(sampleRequest({ prompt: 'lighthouse' }))
        expect(job).toMatchObject({ state: 'queued', attempts: 0, maxAttempts: 3, assetIds: [], error: null })
        expect(job.createdAt.getTime()).toBe(START)
        const read = await queue.get(job.id)
        expect(read?.request.prompt).toBe('lighthouse')
        expect(read?.state).toBe('queued')
        expect(await queue.get('0000000000unknownjobid0000')).toBeNull()
      })

      it('claims by priority, then first in first out, and reports positions', async () => {
        const a = await queue.enqueue(sampleRequest({ prompt: 'a' }))
        const b = await queue.enqueue(sampleRequest({ prompt: 'b', priority: 5 }))
        const c = await queue.enqueue(sampleRequest({ prompt: 'c' }))
        advance(1)
        const d = await queue.enqueue(sampleRequest({ prompt: 'd', priority: 5 }))
        expect(await Promise.all([b, d, a, c].map((j) => queue.position(j.id)))).toEqual([0, 1, 2, 3])
        const order: string[] = []
        for (let i = 0; i < 4; i++) order.push((await claimOrThrow()).job.request.prompt)
        expect(order).toEqual(['b', 'd', 'a', 'c'])
        expect(await queue.position(a.id)).toBeNull()
        expect(await queue.claim('w1')).toBeNull()
      })

      it('marks a claimed job running with one attempt used, and claims only listed models', async () => {
        await queue.enqueue(sampleRequest({ model: 'big' }))
        expect(await queue.claim('w1', ['small'])).toBeNull()
        advance(500)
        const claimed = await queue.claim('w1', ['big'])
        expect(claimed?.job).toMatchObject({ state: 'running', attempts: 1 })
        expect(claimed?.job.startedAt?.getTime()).toBe(START + 500)
        expect(claimed?.signal.aborted).toBe(false)
      })

      it('never hands one job to two concurrent claimers', async () => {
        for (let i = 0; i < 3; i++) await queue.enqueue(sampleRequest({ prompt: `p${i}` }))
        const claims = await Promise.all(Array.from({ length: 6 }, (_, i) => queue.claim(`w${i}`)))
        const ids = claims.filter((c) => c !== null).map((c) => c?.job.id)
        expect(ids).toHaveLength(3)
        expect(new Set(ids).size).toBe(3)
      })

      it('refuses submissions beyond the queue length with QUEUE_FULL and a Retry-After estimate', async () => {
        // one finished job that ran 30 s gives the estimate
        await queue.enqueue(sampleRequest())
        const first = await claimOrThrow()
        advance(30_000)
        await queue.complete(first.job.id, first.lease, [])
        for (let i = 0; i < OPTIONS.maxQueued; i++) await queue.enqueue(sampleRequest())
        const error = await queue.enqueue(sampleRequest()).catch((e: unknown) => e)
        expect(isPigmentError(error, 'QUEUE_FULL')).toBe(true)
        if (!isPigmentError(error)) return
        expect(error.httpStatus).toBe(429)
        expect(error.retryAfterSeconds).toBe(30)
        expect((await queue.counts()).queued).toBe(OPTIONS.maxQueued)
      })
    })

    describe('finishing under a lease', () => {
      it('completes with asset ids and an expiry one retention period later', async () => {
        const { job, lease } = await (async () => {
          await queue.enqueue(sampleRequest())
          return claimOrThrow()
        })()
        advance(2000)
        const done = await queue.complete(job.id, lease, ['asset-1', 'asset-2'])
        expect(done).toMatchObject({ state: 'succeeded', assetIds: ['asset-1', 'asset-2'], error: null })
        expect(done.finishedAt?.getTime()).toBe(START + 2000)
        expect(done.expiresAt?.getTime()).toBe(START + 2000 + OPTIONS.retentionMs)
      })

      it('rejects every transition made with a wrong or spent lease', async () => {
        await queue.enqueue(sampleRequest())
        const { job, lease } = await claimOrThrow()
        const progress = { image: 0, images: 1, step: 1, steps: 4 }
        await expectCode(queue.progress(job.id, 'not-the-lease', progress), 'JOB_LEASE_LOST')
        await expectCode(queue.complete(job.id, 'not-the-lease', []), 'JOB_LEASE_LOST')
        await expectCode(queue.heartbeat(job.id, 'not-the-lease'), 'JOB_LEASE_LOST')
        await queue.complete(job.id, lease, [])
        await expectCode(queue.complete(job.id, lease, []), 'JOB_LEASE_LOST')
        await expectCode(
          queue.fail(job.id, lease, { code: 'X', message: 'x' }, { retryable: true }),
          'JOB_LEASE_LOST',
        )
        await expectCode(queue.requeue(job.id, lease), 'JOB_LEASE_LOST')
        await expectCode(queue.progress(job.id, lease, progress), 'JOB_LEASE_LOST')
        expect((await queue.get(job.id))?.state).toBe('succeeded')
      })

      it('records progress on the job', async () => {
        await queue.enqueue(sampleRequest())
        const { job, lease } = await claimOrThrow()
        await queue.progress(job.id, lease, { image: 0, images: 1, step: 2, steps: 4 })
        expect((await queue.get(job.id))?.progress).toEqual({ image: 0, images: 1, step: 2, steps: 4 })
      })

      it('fails at once on a non-retryable error and keeps the code and message', async () => {
        await queue.enqueue(sampleRequest())
        const { job, lease } = await claimOrThrow()
        const failed = await queue.fail(
          job.id,
          lease,
          { code: 'MODEL_INVALID', message: 'bad' },
          { retryable: false },
        )
        expect(failed).toMatchObject({
          state: 'failed',
          attempts: 1,
          error: { code: 'MODEL_INVALID', message: 'bad' },
        })
        expect(failed.expiresAt?.getTime()).toBe(START + OPTIONS.retentionMs)
      })

      it('retries a retryable failure after a backoff until attempts run out, then fails with the last error', async () => {
        const job = await queue.enqueue(sampleRequest())
        for (let attempt = 1; attempt <= OPTIONS.maxAttempts; attempt++) {
          const claimed = await claimOrThrow()
          expect(claimed.job.attempts).toBe(attempt)
          const error = { code: 'MODEL_RUN_FAILED', message: `try ${attempt}` }
          const after = await queue.fail(job.id, claimed.lease, error, { retryable: true })
          if (attempt < OPTIONS.maxAttempts) {
            expect(after).toMatchObject({ state: 'queued', error })
            expect(await queue.claim('w1')).toBeNull() // still backing off
            advance(60_000)
          } else {
            expect(after).toMatchObject({ state: 'failed', attempts: 3, error })
          }
        }
        expect((await queue.counts()).retried).toBe(1)
      })

      it('requeues without using up an attempt and invalidates the old lease', async () => {
        const job = await queue.enqueue(sampleRequest())
        const first = await claimOrThrow()
        const requeued = await queue.requeue(job.id, first.lease)
        expect(requeued).toMatchObject({ state: 'queued', attempts: 0 })
        const second = await claimOrThrow()
        expect(second.job.attempts).toBe(1)
        await expectCode(queue.complete(job.id, first.lease, []), 'JOB_LEASE_LOST')
        expect((await queue.complete(job.id, second.lease, [])).state).toBe('succeeded')
      })
    })

    describe('cancel', () => {
      it('cancels a queued job at once', async () => {
        const job = await queue.enqueue(sampleRequest())
        const canceled = await queue.cancel(job.id)
        expect(canceled?.state).toBe('canceled')
        expect(canceled?.finishedAt?.getTime()).toBe(START)
        expect(await queue.claim('w1')).toBeNull()
      })

      it('flags a running job, fires its signal, and ends it canceled when the worker acknowledges', async () => {
        const job = await queue.enqueue(sampleRequest())
        const { signal, lease } = await claimOrThrow()
        const flagged = await queue.cancel(job.id)
        expect(flagged).toMatchObject({ state: 'running', cancelRequested: true })
        expect(signal.aborted).toBe(true)
        expect(isPigmentError(signal.reason, 'JOB_CANCELED')).toBe(true)
        expect(await queue.heartbeat(job.id, lease)).toEqual({ cancelRequested: true })
        expect((await queue.acknowledgeCancel(job.id, lease)).state).toBe('canceled')
      })

      it('ends a cancel-requested job canceled even when its worker reports a retryable failure', async () => {
        const job = await queue.enqueue(sampleRequest())
        const { lease } = await claimOrThrow()
        await queue.cancel(job.id)
        const after = await queue.fail(
          job.id,
          lease,
          { code: 'JOB_CANCELED', message: 'stop' },
          { retryable: true },
        )
        expect(after.state).toBe('canceled')
      })

      it('lets a worker in another process learn of the cancel through its heartbeat', async () => {
        const job = await queue.enqueue(sampleRequest())
        const { signal, lease } = await claimOrThrow()
        const other = await fixture.restart()
        await other.cancel(job.id)
        expect(signal.aborted).toBe(false)
        expect(await queue.heartbeat(job.id, lease)).toEqual({ cancelRequested: true })
        expect(signal.aborted).toBe(true)
      })

      it('leaves finished jobs alone and returns null for unknown ids', async () => {
        await queue.enqueue(sampleRequest())
        const { job, lease } = await claimOrThrow()
        await queue.complete(job.id, lease, [])
        expect((await queue.cancel(job.id))?.state).toBe('succeeded')
        expect(await queue.cancel('0000000000unknownjobid0000')).toBeNull()
      })

      it('purges every queued job and nothing else', async () => {
        await queue.enqueue(sampleRequest())
        await claimOrThrow()
        await queue.enqueue(sampleRequest())
        await queue.enqueue(sampleRequest())
        expect(await queue.purge()).toBe(2)
        expect(await queue.counts()).toMatchObject({ queued: 0, running: 1, canceled: 2 })
      })
    })

    describe('recovery and retention', () => {
      it('requeues a running job whose lease expired, and the old lease is lost', async () => {
        const job = await queue.enqueue(sampleRequest())
        const { lease } = await claimOrThrow()
        advance(OPTIONS.leaseMs - 1)
        expect(await queue.recoverStale(new Date(now))).toBe(0)
        advance(1)
        expect(await queue.recoverStale(new Date(now))).toBe(1)
        expect((await queue.get(job.id))?.state).toBe('queued')
        await expectCode(queue.complete(job.id, lease, []), 'JOB_LEASE_LOST')
      })

      it('keeps a job whose worker heartbeats', async () => {
        await queue.enqueue(sampleRequest())
        const { job, lease } = await claimOrThrow()
        for (let i = 0; i < 5; i++) {
          advance(OPTIONS.leaseMs / 2)
          await queue.heartbeat(job.id, lease)
        }
        expect(await queue.recoverStale(new Date(now))).toBe(0)
        expect((await queue.complete(job.id, lease, [])).state).toBe('succeeded')
      })

      it('fails a stale job that has no attempts left', async () => {
        const job = await queue.enqueue(sampleRequest(), { maxAttempts: 1 })
        await claimOrThrow()
        advance(OPTIONS.leaseMs)
        await queue.recoverStale(new Date(now))
        const failed = await queue.get(job.id)
        expect(failed).toMatchObject({ state: 'failed', error: { code: 'JOB_STALLED' } })
      })

      it('after a restart, requeues the jobs the dead process was running and keeps queued ones', async () => {
        const running = await queue.enqueue(sampleRequest({ prompt: 'running' }))
        await claimOrThrow()
        const waiting = await queue.enqueue(sampleRequest({ prompt: 'waiting' }))
        const restarted = await fixture.restart()
        expect(await restarted.recoverStale()).toBe(1)
        const claimed = [await restarted.claim('w2'), await restarted.claim('w2')].map((c) => c?.job.id)
        expect(claimed).toEqual([running.id, waiting.id])
        expect((await restarted.get(running.id))?.attempts).toBe(2)
      })

      it('expires finished jobs after retention and returns their asset ids', async () => {
        const done = await queue.enqueue(sampleRequest())
        const claimed = await claimOrThrow()
        await queue.complete(done.id, claimed.lease, ['a1', 'a2'])
        const canceled = await queue.enqueue(sampleRequest())
        await queue.cancel(canceled.id)
        const waiting = await queue.enqueue(sampleRequest())
        advance(OPTIONS.retentionMs - 1)
        expect(await queue.expireFinished(new Date(now))).toEqual({ jobs: 0, assetIds: [] })
        advance(1)
        const expired = await queue.expireFinished(new Date(now))
        expect(expired.jobs).toBe(2)
        expect([...expired.assetIds].sort()).toEqual(['a1', 'a2'])
        expect((await queue.get(done.id))?.state).toBe('expired')
        expect((await queue.get(waiting.id))?.state).toBe('queued')
      })
    })

    describe('events and waiting', () => {
      it('publishes each transition in order with rising sequence numbers, and replays after a given one', async () => {
        const job = await queue.enqueue(sampleRequest({ n: 1 }))
        const live: JobEvent[] = []
        const stop = queue.subscribe(job.id, (e) => live.push(e), 0)
        const { lease } = await claimOrThrow()
        for (let step = 1; step <= 3; step++) {
          await queue.progress(job.id, lease, { image: 0, images: 1, step, steps: 3 })
        }
        await queue.complete(job.id, lease, ['a'])
        stop()
        expect(live.map((e) => e.type)).toEqual([
          'queued',
          'started',
          'progress',
          'progress',
          'progress',
          'succeeded',
        ])
        expect(live.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6])
        expect(live.slice(2, 5).map((e) => e.progress?.step)).toEqual([1, 2, 3])

        const replayed: JobEvent[] = []
        queue.subscribe(job.id, (e) => replayed.push(e), 4)()
        expect(replayed.map((e) => [e.seq, e.type])).toEqual([
          [5, 'progress'],
          [6, 'succeeded'],
        ])
      })

      it('tells subscribers about retries and cancels', async () => {
        const job = await queue.enqueue(sampleRequest())
        const types: string[] = []
        queue.subscribe(job.id, (e) => types.push(e.type))
        const first = await claimOrThrow()
        await queue.fail(job.id, first.lease, { code: 'X', message: 'x' }, { retryable: true })
        advance(60_000)
        await claimOrThrow()
        await queue.cancel(job.id)
        expect(types).toEqual(['started', 'requeued', 'started'])
        const queued = await queue.enqueue(sampleRequest())
        const onQueued: string[] = []
        queue.subscribe(queued.id, (e) => onQueued.push(e.type))
        await queue.cancel(queued.id)
        expect(onQueued).toEqual(['canceled'])
      })

      it('waitUntilFinished resolves with the finished job, or the current one on timeout', async () => {
        const job = await queue.enqueue(sampleRequest())
        const pending = queue.waitUntilFinished(job.id, 60_000)
        const { lease } = await claimOrThrow()
        await queue.complete(job.id, lease, ['x'])
        expect(await pending).toMatchObject({ id: job.id, state: 'succeeded', assetIds: ['x'] })
        expect((await queue.waitUntilFinished(job.id, 10))?.state).toBe('succeeded')
        const other = await queue.enqueue(sampleRequest())
        expect((await queue.waitUntilFinished(other.id, 20))?.state).toBe('queued')
        expect(await queue.waitUntilFinished('0000000000unknownjobid0000', 20)).toBeNull()
      })

      it('wakes a waiting worker when a job arrives, even one enqueued just before it waited', async () => {
        const woken = queue.waitForWork(60_000)
        await queue.enqueue(sampleRequest())
        await woken
        await queue.enqueue(sampleRequest())
        await queue.waitForWork(60_000) // remembered wake-up: returns at once
        const controller = new AbortController()
        const aborted = queue.waitForWork(60_000, controller.signal)
        controller.abort()
        await aborted
      })
    })

    describe('listing and counting', () => {
      it('lists newest first with filters and cursor pagination', async () => {
        const ids: string[] = []
        for (let i = 0; i < 5; i++) {
          advance(10)
          const owner = i % 2 === 0 ? 'key-a' : 'key-b'
          ids.push((await queue.enqueue(sampleRequest({ origin: { keyId: owner, source: 'native' } }))).id)
        }
        await queue.cancel(ids[4])
        const first = await queue.list({}, { limit: 2 })
        expect(first.jobs.map((j) => j.id)).toEqual([ids[4], ids[3]])
        const second = await queue.list({}, { limit: 2, cursor: first.nextCursor })
        expect(second.jobs.map((j) => j.id)).toEqual([ids[2], ids[1]])
        const third = await queue.list({}, { limit: 2, cursor: second.nextCursor })
        expect(third.jobs.map((j) => j.id)).toEqual([ids[0]])
        expect(third.nextCursor).toBeNull()
        const mine = await queue.list({ ownerKeyId: 'key-a', state: 'queued' }, { limit: 10 })
        expect(mine.jobs.map((j) => j.id)).toEqual([ids[2], ids[0]])
        const recent = await queue.list({ createdAfter: new Date(START + 30) }, { limit: 10 })
        expect(recent.jobs.map((j) => j.id)).toEqual([ids[4], ids[3]])
        await expectCode(queue.list({}, { limit: 2, cursor: 'garbage' }), 'VALIDATION_FAILED')
      })

      it('counts jobs by state', async () => {
        await queue.enqueue(sampleRequest())
        await queue.enqueue(sampleRequest())
        const { job, lease } = await claimOrThrow()
        await queue.fail(job.id, lease, { code: 'X', message: 'x' }, { retryable: false })
        await claimOrThrow()
        expect(await queue.counts()).toEqual({
          queued: 0,
          running: 1,
          succeeded: 0,
          failed: 1,
          canceled: 0,
          retried: 0,
        })
      })
    })
  })
}
