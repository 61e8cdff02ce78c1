import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import type { Job } from '../../core/job.js'
import { AssetsRepo } from '../../db/assets-repo.js'
import type { DatabaseHandle } from '../../db/connect.js'
import { clearTables, openTestDatabase, postgresReachable } from '../../db/test-databases.js'
import { LocalStore } from '../../storage/local-store.js'
import { FakePipeline } from '../../worker/fake-pipeline.js'
import { describeJobQueueContract } from '../job-queue.contract.js'
import type { JobEvent } from '../job-queue.js'
import { sampleRequest } from '../test-requests.js'
import { type BullmqQueueOptions, openBullmqQueue } from './bullmq-queue.js'
import { FleetWorker } from './fleet-worker.js'
import { dropPrefix, redisReachable, TEST_REDIS_URL, testPrefix } from './testing.js'
import { capacityOf, readAdverts } from './worker-registry.js'

const available = (await postgresReachable()) && (await redisReachable())
const title = available ? 'bullmq on postgres' : 'bullmq (skipped: needs Postgres and Redis on the machine)'

describe.skipIf(!available)(title, () => {
  let shared: DatabaseHandle | undefined
  const prefixes: string[] = []
  afterAll(async () => {
    await shared?.close()
    for (const prefix of prefixes) await dropPrefix(prefix)
  })
  async function database(): Promise<DatabaseHandle> {
    shared ??= await openTestDatabase('postgres')
    await clearTables(shared)
    return shared
  }

  describeJobQueueContract('bullmq-queue', async (options) => {
    const handle = await database()
    const prefix = testPrefix('contract')
    prefixes.push(prefix)
    const open = () =>
      openBullmqQueue(handle, {
        ...options,
        redisUrl: TEST_REDIS_URL,
        prefix,
        exclusive: true,
        finishPollMs: 5,
      })
    const queues = [await open()]
    return {
      queue: queues[0],
      async restart() {
        const next = await open()
        queues.push(next)
        return next
      },
      async close() {
        for (const queue of queues) await queue.close()
      },
    }
  })

  describe('dispatch through BullMQ to workers in another process', () => {
    const cleanups: (() => Promise<void>)[] = []
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
    })

    /** An API-side queue and a worker-side queue (as two processes would have), and a fleet worker. */
    async function fleet(pipeline: FakePipeline, options: Partial<BullmqQueueOptions> = {}) {
      const handle = await database()
      const prefix = testPrefix('fleet')
      prefixes.push(prefix)
      const base = { redisUrl: TEST_REDIS_URL, prefix, retryBackoffMs: 10, finishPollMs: 20, ...options }
      const api = await openBullmqQueue(handle, base)
      const workerSide = await openBullmqQueue(handle, { ...base, subscribeEvents: false })
      const root = mkdtempSync(join(tmpdir(), 'pigment-fleet-'))
      const store = new LocalStore({
        root,
        secret: 'fleet-test-secret-0123456789',
        publicBaseUrl: 'http://x',
      })
      const worker = new FleetWorker({
        queue: workerSide,
        redisUrl: TEST_REDIS_URL,
        store,
        assets: new AssetsRepo(handle.db),
        pipelines: { acquire: async () => ({ pipeline, release() {} }) },
        models: ['test-model'],
        id: `w-${prefix}`,
        progressIntervalMs: 0,
        heartbeatMs: 200,
        sweepEveryMs: 200,
        advertiseEveryMs: 200,
      })
      cleanups.push(async () => {
        await worker.stop({ graceMs: 0 })
        await workerSide.close()
        await api.close()
        rmSync(root, { recursive: true, force: true })
      })
      return { api, workerSide, worker, handle }
    }

    it('runs a job submitted on the API side, relays its events there, and advertises the worker', async () => {
      const { api, worker } = await fleet(new FakePipeline('test-model'))
      await worker.start()
      const job = await api.enqueue(sampleRequest({ model: 'test-model', steps: 3 }))
      const events: JobEvent[] = []
      api.subscribe(job.id, (event) => events.push(event), 0)
      const done = await api.waitUntilFinished(job.id, 20_000)
      expect(done).toMatchObject({ state: 'succeeded', attempts: 1 })
      expect(done?.assetIds).toHaveLength(1)
      await waitFor(() => events.some((e) => e.type === 'succeeded'))
      expect(events.map((e) => e.type)).toEqual([
        'queued',
        'started',
        'progress',
        'progress',
        'progress',
        'succeeded',
      ])
      const capacity = capacityOf(await readAdverts(api.redis, api.names))
      expect(capacity.models['test-model']).toMatchObject({ workers: 1, slots: 1 })
    })

    it('runs by priority, then in submission order', async () => {
      const { api, worker } = await fleet(new FakePipeline('test-model'))
      const low = await api.enqueue(sampleRequest({ model: 'test-model', prompt: 'low', priority: -5 }))
      const a = await api.enqueue(sampleRequest({ model: 'test-model', prompt: 'a' }))
      const high = await api.enqueue(sampleRequest({ model: 'test-model', prompt: 'high', priority: 9 }))
      const b = await api.enqueue(sampleRequest({ model: 'test-model', prompt: 'b' }))
      await worker.start()
      const finished: Job[] = []
      for (const job of [low, a, high, b]) finished.push((await api.waitUntilFinished(job.id, 20_000)) as Job)
      const order = [...finished].sort(
        (x, y) => (x.startedAt?.getTime() ?? 0) - (y.startedAt?.getTime() ?? 0),
      )
      expect(order.map((job) => job.request.prompt)).toEqual(['high', 'a', 'b', 'low'])
    })

    it('stops a running job at its next step when another process cancels it', async () => {
      const pipeline = new FakePipeline('test-model', { pauseAtStep: 2 })
      const { api, worker } = await fleet(pipeline, { leaseMs: 60_000 })
      await worker.start()
      const job = await api.enqueue(sampleRequest({ model: 'test-model', steps: 4 }))
      await pipeline.paused()
      const flagged = await api.cancel(job.id)
      expect(flagged).toMatchObject({ state: 'running', cancelRequested: true })
      const done = await api.waitUntilFinished(job.id, 20_000)
      expect(done?.state).toBe('canceled')
      expect(done?.assetIds).toEqual([])
    })

    it('retries a retryable failure through BullMQ until it succeeds', async () => {
      const failure = Object.assign(new Error('flaky'), { code: 'X' })
      const pipeline = new FakePipeline('test-model', { failOn: new Map([[1, failure]]) })
      const { api, worker } = await fleet(pipeline)
      await worker.start()
      const job = await api.enqueue(sampleRequest({ model: 'test-model' }))
      const done = await api.waitUntilFinished(job.id, 20_000)
      expect(done).toMatchObject({ state: 'succeeded', attempts: 2 })
    })

    it('writes the tickets lost with Redis again, so queued jobs still run', async () => {
      const { api, worker } = await fleet(new FakePipeline('test-model'), { reconcileAfterMs: 0 })
      const job = await api.enqueue(sampleRequest({ model: 'test-model' }))
      await api.dispatcher.queueFor('test-model').obliterate({ force: true })
      await worker.start()
      const done = await api.waitUntilFinished(job.id, 20_000)
      expect(done?.state).toBe('succeeded')
    })

    it('takes over a job whose worker stalled; the stalled worker can no longer finish it', async () => {
      const { api, workerSide } = await fleet(new FakePipeline('test-model'))
      const job = await api.enqueue(sampleRequest({ model: 'test-model' }))
      const first = await workerSide.claimJob(job.id, 'dead-worker')
      const second = await workerSide.claimJob(job.id, 'live-worker', { takeOver: true })
      expect(second?.job).toMatchObject({ state: 'running', attempts: 2 })
      expect(first?.signal.aborted).toBe(false)
      await expect(workerSide.complete(job.id, first?.lease ?? '', [])).rejects.toMatchObject({
        code: 'JOB_LEASE_LOST',
      })
      expect((await workerSide.complete(job.id, second?.lease ?? '', [])).state).toBe('succeeded')
      expect(await workerSide.claimJob(job.id, 'late-worker', { takeOver: true })).toBeNull()
    })

    it('announces the end of a job only once onJobEnded has run, and never for a stale lease', async () => {
      const handle = await database()
      const prefix = testPrefix('ended')
      prefixes.push(prefix)
      // no polling on the API side: the relayed event is the only way it can hear the end
      const api = await openBullmqQueue(handle, { redisUrl: TEST_REDIS_URL, prefix, finishPollMs: 600_000 })
      const ended: string[] = []
      let release = (): void => {}
      const held = new Promise<void>((resolve) => {
        release = resolve
      })
      const workerSide = await openBullmqQueue(handle, {
        redisUrl: TEST_REDIS_URL,
        prefix,
        subscribeEvents: false,
        onJobEnded: async (job) => {
          ended.push(job.state)
          await held
        },
      })
      cleanups.push(async () => {
        release()
        await workerSide.close()
        await api.close()
      })
      const job = await api.enqueue(sampleRequest({ model: 'test-model' }))
      const heard: string[] = []
      api.subscribe(job.id, (event) => heard.push(event.type))
      const stale = await workerSide.claimJob(job.id, 'stale-worker')
      const live = await workerSide.claimJob(job.id, 'live-worker', { takeOver: true })
      await expect(workerSide.complete(job.id, stale?.lease ?? '', [])).rejects.toMatchObject({
        code: 'JOB_LEASE_LOST',
      })
      await workerSide.complete(job.id, live?.lease ?? '', [])
      await waitFor(() => heard.filter((type) => type === 'started').length === 2)
      await new Promise((resolve) => setTimeout(resolve, 200))
      expect(ended).toEqual(['succeeded'])
      expect(heard).not.toContain('succeeded')
      release()
      await waitFor(() => heard.includes('succeeded'))
      expect(ended).toEqual(['succeeded'])
    })
  })
})

async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}
