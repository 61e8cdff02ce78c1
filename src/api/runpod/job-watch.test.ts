import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import pino from 'pino'
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Job } from '../../core/job.js'
import type { DatabaseHandle } from '../../db/connect.js'
import { openTestDatabase, testDialects } from '../../db/test-databases.js'
import type { JobEvents, JobProducer } from '../../jobs/job-queue.js'
import { FakeQueue } from '../shared/testing/fake-deps.js'
import { fakeRequest } from '../testing/records.js'
import { RunPodJobStore } from './job-store.js'
import { JobWatch } from './job-watch.js'
import { WebhookTargets } from './webhook-targets.js'

const POLICY = { timeoutMs: 2000, retries: 2, retryDelayMs: 50 }
const SWEEP_MS = 50
/** Several sweeps: long enough for a second delivery to have shown up. */
const SETTLE_MS = 300

interface Receiver {
  readonly url: URL
  readonly bodies: Record<string, unknown>[]
}

let servers: Server[] = []
const watches: JobWatch[] = []

afterEach(async () => {
  await Promise.all(watches.splice(0).map((watch) => watch.close()))
  for (const server of servers) server.closeAllConnections()
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))))
  servers = []
})

/** A receiver answering each call with the next status (200 once they run out), after `delayMs`. */
async function receiver(statuses: number[] = [], delayMs = 0): Promise<Receiver> {
  const bodies: Record<string, unknown>[] = []
  const server = createServer(async (request: IncomingMessage, response) => {
    let text = ''
    for await (const chunk of request) text += chunk
    bodies.push(JSON.parse(text))
    await new Promise((resolve) => setTimeout(resolve, delayMs))
    response.writeHead(statuses.shift() ?? 200).end()
  })
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { url: new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`), bodies }
}

/** The same jobs as a new process sees them: lookups reach them, events from before it started do not. */
function afterRestart(queue: FakeQueue): JobProducer & JobEvents {
  return new Proxy(queue, {
    get(target, property) {
      if (property === 'subscribe') {
        return (id: string, listener: Parameters<FakeQueue['subscribe']>[1]) => target.subscribe(id, listener)
      }
      const value = Reflect.get(target, property)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out')
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

for (const target of await testDialects()) {
  describe.skipIf(!target.available)(`JobWatch on ${target.title}`, () => {
    let handle: DatabaseHandle
    let store: RunPodJobStore
    let queue: FakeQueue
    let logs: Record<string, unknown>[]
    beforeEach(async () => {
      handle ??= await openTestDatabase(target.dialect)
      await handle.db.deleteFrom('runpod_jobs').execute()
      store = new RunPodJobStore(handle.db)
      queue = new FakeQueue()
      logs = []
    })
    afterAll(async () => {
      await handle?.close()
    })

    /** A process's watch over the shared database; `jobs` is what that process sees of the queue. */
    function newProcess(jobs: JobProducer & JobEvents = queue, clock?: () => number): JobWatch {
      const logger = pino({ level: 'info' }, { write: (line: string) => logs.push(JSON.parse(line)) })
      const watch: JobWatch = new JobWatch({
        jobs,
        store: clock === undefined ? store : new RunPodJobStore(handle.db, { clock }),
        webhookTargets: new WebhookTargets({ allow: ['127.0.0.1'] }),
        ...(clock === undefined ? {} : { clock }),
        render: async (job) => ({ id: job.id, state: job.state, timedOut: await watch.isTimedOut(job.id) }),
        logger,
        webhookPolicy: POLICY,
        rememberMs: 60_000,
        sweepMs: SWEEP_MS,
      })
      watches.push(watch)
      return watch
    }

    const finish = (job: Job, state: 'succeeded' | 'canceled' = 'succeeded') =>
      queue.update({ ...job, state, finishedAt: new Date() }, state)

    it('a webhook accepted before a restart is sent once, by the next process, when the job ends', async () => {
      const hook = await receiver()
      const first = newProcess()
      const job = await queue.enqueue(fakeRequest())
      await first.watch(job, { webhook: hook.url })
      await first.close()
      const second = newProcess(afterRestart(queue))
      second.start()
      await sleep(SETTLE_MS)
      expect(hook.bodies).toEqual([])
      finish(await queue.get(job.id).then((latest) => latest ?? job))
      await until(() => hook.bodies.length > 0)
      await sleep(SETTLE_MS)
      expect(hook.bodies).toEqual([{ id: job.id, state: 'succeeded', timedOut: false }])
      expect(await store.get(job.id)).toMatchObject({ state: 'closed', outcome: 'delivered', attempts: 1 })
    })

    it('a job that ended while no process was up is delivered once, though two processes start together', async () => {
      const hook = await receiver([], 100)
      const first = newProcess()
      const job = await queue.enqueue(fakeRequest())
      await first.watch(job, { webhook: hook.url })
      await first.close()
      finish(job)
      const processes = [newProcess(afterRestart(queue)), newProcess(afterRestart(queue))]
      for (const watch of processes) watch.start()
      await until(() => hook.bodies.length > 0)
      await sleep(SETTLE_MS)
      expect(hook.bodies).toHaveLength(1)
      expect(logs.filter((line) => line.msg === 'runpod: webhook delivered')).toHaveLength(1)
    })

    it('retries a failing receiver after the delay and records the delivery once it answers', async () => {
      const hook = await receiver([500, 503])
      const watch = newProcess()
      const job = await queue.enqueue(fakeRequest())
      await watch.watch(job, { webhook: hook.url })
      finish(job)
      await until(() => hook.bodies.length === 3)
      await until(async () => (await store.get(job.id))?.outcome === 'delivered')
      expect(logs).toContainEqual(expect.objectContaining({ msg: 'runpod: webhook delivered', attempts: 3 }))
    })

    it('a retry timer that fires before the attempt is due (by the clock) waits out the rest', async () => {
      const hook = await receiver([500])
      // a clock at half speed: every timer fires early by its measure, as libuv's may by a millisecond
      const origin = Date.now()
      const watch = newProcess(queue, () => origin + Math.floor((Date.now() - origin) / 2))
      const job = await queue.enqueue(fakeRequest())
      await watch.watch(job, { webhook: hook.url })
      finish(job)
      await until(async () => (await store.get(job.id))?.outcome === 'delivered')
      await sleep(SETTLE_MS)
      expect(hook.bodies).toHaveLength(2)
    })

    it('gives up after the last retry, says so, and a restart does not send it again', async () => {
      const hook = await receiver([500, 500, 500, 500, 500])
      const first = newProcess()
      const job = await queue.enqueue(fakeRequest())
      await first.watch(job, { webhook: hook.url })
      finish(job)
      await until(async () => (await store.get(job.id))?.state === 'closed')
      expect(await store.get(job.id)).toMatchObject({
        outcome: 'gave-up',
        attempts: 3,
        lastError: 'HTTP 500',
      })
      expect(logs).toContainEqual(
        expect.objectContaining({ msg: 'runpod: webhook not delivered', attempts: 3, lastError: 'HTTP 500' }),
      )
      await first.close()
      newProcess(afterRestart(queue)).start()
      await sleep(SETTLE_MS)
      expect(hook.bodies).toHaveLength(3)
    })

    it('a ttl accepted before a restart stops the job when it runs out, not before', async () => {
      const hook = await receiver()
      const first = newProcess()
      const job = await queue.enqueue(fakeRequest())
      const ttlMs = 400
      await first.watch(job, { webhook: hook.url, ttlMs })
      await first.close()
      const second = newProcess(afterRestart(queue))
      second.start()
      await sleep(100)
      expect((await queue.get(job.id))?.state).toBe('queued')
      await until(async () => (await queue.get(job.id))?.state === 'canceled')
      expect(Date.now()).toBeGreaterThanOrEqual(job.createdAt.getTime() + ttlMs)
      expect(await second.isTimedOut(job.id)).toBe(true)
      await until(() => hook.bodies.length > 0)
      expect(hook.bodies).toEqual([{ id: job.id, state: 'canceled', timedOut: true }])
    })

    it('an execution timeout counts from the start of the run, also when a new process adopts the job', async () => {
      const first = newProcess()
      const job = await queue.enqueue(fakeRequest())
      const executionTimeoutMs = 300
      await first.watch(job, { executionTimeoutMs })
      const startedAt = new Date()
      queue.update({ ...job, state: 'running', attempts: 1, startedAt }, 'started')
      await first.close()
      newProcess(afterRestart(queue)).start()
      const cancelRequested = async () =>
        ((await queue.get(job.id)) as { cancelRequested?: boolean } | null)?.cancelRequested === true
      await sleep(100)
      expect(await cancelRequested()).toBe(false)
      await until(cancelRequested)
      expect(Date.now()).toBeGreaterThanOrEqual(startedAt.getTime() + executionTimeoutMs)
      expect(await store.isTimedOut(job.id)).toBe(true)
    })

    it('a job that finishes in time is left alone and its row closed; a job without promises gets none', async () => {
      const watch = newProcess()
      const job = await queue.enqueue(fakeRequest())
      await watch.watch(job, { ttlMs: 200, executionTimeoutMs: 200 })
      const plain = await queue.enqueue(fakeRequest())
      await watch.watch(plain, {})
      finish(job)
      await sleep(SETTLE_MS)
      expect(await store.get(job.id)).toMatchObject({ state: 'closed', timedOut: false })
      expect(await store.get(plain.id)).toBeNull()
    })

    it('a side job’s webhook carries the body recorded with it', async () => {
      const hook = await receiver([500])
      const watch = newProcess()
      await watch.notify(hook.url, { id: 'side', status: 'COMPLETED', output: { warmed: true } }, 'side')
      await until(() => hook.bodies.length === 2)
      expect(hook.bodies[1]).toEqual({ id: 'side', status: 'COMPLETED', output: { warmed: true } })
    })
  })
}
