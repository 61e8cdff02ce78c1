import { createHash } from 'node:crypto'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { errors } from '../core/errors.js'
import type { Job } from '../core/job.js'
import { AssetsRepo } from '../db/assets-repo.js'
import { type DatabaseHandle, openDatabase } from '../db/connect.js'
import { DbQueue, type DbQueueOptions } from '../jobs/db-queue.js'
import type { JobEvent } from '../jobs/job-queue.js'
import { sampleRequest } from '../jobs/test-requests.js'
import { LocalStore } from '../storage/local-store.js'
import { FakePipeline } from './fake-pipeline.js'
import { Worker, type WorkerOptions } from './worker.js'

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47]

interface Rig {
  readonly handle: DatabaseHandle
  readonly queue: DbQueue
  readonly assets: AssetsRepo
  readonly store: LocalStore
  readonly worker: Worker
  readonly root: string
}

const rigs: Rig[] = []

async function rig(
  pipeline: FakePipeline,
  queueOptions: DbQueueOptions = {},
  workerOptions: Partial<WorkerOptions> = {},
): Promise<Rig> {
  const handle = await openDatabase('sqlite::memory:')
  const queue = new DbQueue(handle, { retryBackoffMs: 0, finishPollMs: 5, ...queueOptions })
  const assets = new AssetsRepo(handle.db)
  const root = mkdtempSync(join(tmpdir(), 'pigment-worker-'))
  const store = new LocalStore({ root, secret: 'worker-test-secret-0123456789', publicBaseUrl: 'http://x' })
  const worker = new Worker({
    queue,
    store,
    assets,
    pipelines: { acquire: async () => ({ pipeline, release() {} }) },
    progressIntervalMs: 0,
    pollMs: 20,
    ...workerOptions,
  })
  const made = { handle, queue, assets, store, worker, root }
  rigs.push(made)
  return made
}

afterEach(async () => {
  for (const r of rigs.splice(0)) {
    await r.worker.stop({ graceMs: 0 })
    await r.queue.close()
    await r.handle.close()
    rmSync(r.root, { recursive: true, force: true })
  }
})

function storedFiles(root: string): string[] {
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => entry.name)
}

async function finished(queue: DbQueue, jobId: string): Promise<Job> {
  const job = await queue.waitUntilFinished(jobId, 20_000)
  if (job === null) throw new Error('job vanished')
  return job
}

/** Resolves with the job's first event of this type, including one already published. */
function firstEvent(queue: DbQueue, jobId: string, type: JobEvent['type']): Promise<JobEvent> {
  return new Promise((resolve) => {
    let stop: (() => void) | null = null
    let found = false
    stop = queue.subscribe(
      jobId,
      (event) => {
        if (event.type !== type || found) return
        found = true
        stop?.()
        resolve(event)
      },
      0,
    )
    if (found) stop()
  })
}

describe('Worker', () => {
  it('stores every image with its asset record and completes the job', async () => {
    const r = await rig(new FakePipeline())
    await r.worker.start()
    const job = await r.queue.enqueue(sampleRequest({ n: 2, seed: 7, width: 16, height: 8 }))
    const done = await finished(r.queue, job.id)
    expect(done.state).toBe('succeeded')
    expect(done.assetIds).toHaveLength(2)
    const assets = await r.assets.listByJob(job.id)
    expect(assets.map((a) => a.id)).toEqual(done.assetIds)
    expect(assets.map((a) => [a.index, a.seed, a.width, a.height, a.format])).toEqual([
      [0, 7, 16, 8, 'png'],
      [1, 8, 16, 8, 'png'],
    ])
    for (const asset of assets) {
      expect(asset.key).toMatch(
        new RegExp(`^outputs/\\d{4}/\\d{2}/\\d{2}/\\d{6}/${job.id}_${asset.index}\\.png$`),
      )
      expect(asset.expiresAt).toEqual(done.expiresAt)
      expect(asset.parameters).toMatchObject({
        prompt: 'a red fox in snow',
        seed: asset.seed,
        model: 'tiny-sd',
      })
      const bytes = await r.store.get(asset.key)
      expect(bytes === null ? null : [...bytes.subarray(0, 4)]).toEqual(PNG_SIGNATURE)
      expect(
        createHash('sha256')
          .update(bytes ?? new Uint8Array())
          .digest('hex'),
      ).toBe(asset.sha256)
      expect(asset.bytes).toBe(bytes?.byteLength)
    }
  })

  it('forwards every step in order when unthrottled, and the last step of each image when throttled', async () => {
    const r = await rig(new FakePipeline())
    await r.worker.start()
    const job = await r.queue.enqueue(sampleRequest({ n: 2, steps: 3 }))
    const events: JobEvent[] = []
    r.queue.subscribe(job.id, (event) => events.push(event), 0)
    await finished(r.queue, job.id)
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1))
    const steps = events
      .filter((e) => e.type === 'progress')
      .map((e) => `${e.progress?.image}:${e.progress?.step}`)
    expect(steps).toEqual(['0:1', '0:2', '0:3', '1:1', '1:2', '1:3'])
    expect(events.at(0)?.type).toBe('queued')
    expect(events.at(-1)?.type).toBe('succeeded')

    const slow = await rig(new FakePipeline(), {}, { progressIntervalMs: 3_600_000 })
    await slow.worker.start()
    const throttled = await slow.queue.enqueue(sampleRequest({ n: 1, steps: 30 }))
    const seen: number[] = []
    slow.queue.subscribe(throttled.id, (e) => {
      if (e.progress !== undefined) seen.push(e.progress.step)
    })
    await finished(slow.queue, throttled.id)
    expect(seen).toEqual([1, 30])
  })

  it('attaches PNG previews to progress events when asked', async () => {
    const r = await rig(new FakePipeline(), {}, { previewEvery: 2 })
    await r.worker.start()
    const job = await r.queue.enqueue(sampleRequest({ n: 1, steps: 4 }))
    const previews: [number, string | undefined][] = []
    r.queue.subscribe(job.id, (e) => {
      if (e.type === 'progress') previews.push([e.progress?.step ?? -1, e.previewPng?.slice(0, 8)])
    })
    await finished(r.queue, job.id)
    // "iVBORw0K" is base64 of the PNG signature
    expect(previews).toEqual([
      [1, undefined],
      [2, 'iVBORw0K'],
      [3, undefined],
      [4, 'iVBORw0K'],
    ])
  })

  it('stops a running job that is canceled, ends it canceled and keeps no images', async () => {
    const pipeline = new FakePipeline('fake', { pauseAtStep: 2 })
    const r = await rig(pipeline)
    await r.worker.start()
    const job = await r.queue.enqueue(sampleRequest({ n: 1, steps: 4 }))
    await pipeline.paused()
    await r.queue.cancel(job.id)
    const done = await finished(r.queue, job.id)
    expect(done.state).toBe('canceled')
    expect(done.assetIds).toEqual([])
    expect(await r.assets.listByJob(job.id)).toEqual([])
    expect(storedFiles(r.root)).toEqual([])
  })

  it('learns of a cancel made by another process through its heartbeat', async () => {
    const pipeline = new FakePipeline('fake', { pauseAtStep: 1 })
    const r = await rig(pipeline, {}, { heartbeatMs: 5 })
    await r.worker.start()
    const job = await r.queue.enqueue(sampleRequest())
    await pipeline.paused()
    const otherProcess = new DbQueue(r.handle, { exclusive: false })
    await otherProcess.cancel(job.id)
    expect((await finished(r.queue, job.id)).state).toBe('canceled')
  })

  it('fails at once on a non-retryable error, keeping its code', async () => {
    const failOn = new Map([[1, errors.MODEL_INVALID('manifest has no steps')]])
    const r = await rig(new FakePipeline('fake', { failOn }))
    await r.worker.start()
    const job = await r.queue.enqueue(sampleRequest())
    const done = await finished(r.queue, job.id)
    expect(done).toMatchObject({ state: 'failed', attempts: 1, error: { code: 'MODEL_INVALID' } })
  })

  it('retries other errors until one run succeeds', async () => {
    const failOn = new Map<number, unknown>([
      [1, new Error('flaky 1')],
      [2, errors.MODEL_RUN_FAILED('flaky 2')],
    ])
    const r = await rig(new FakePipeline('fake', { failOn }))
    await r.worker.start()
    const job = await r.queue.enqueue(sampleRequest(), { maxAttempts: 3 })
    const done = await finished(r.queue, job.id)
    expect(done).toMatchObject({ state: 'succeeded', attempts: 3, error: null })
  })

  it('fails with the last error once attempts run out', async () => {
    const failOn = new Map<number, unknown>([
      [1, new Error('first')],
      [2, new Error('second')],
    ])
    const r = await rig(new FakePipeline('fake', { failOn }))
    await r.worker.start()
    const job = await r.queue.enqueue(sampleRequest(), { maxAttempts: 2 })
    const done = await finished(r.queue, job.id)
    expect(done).toMatchObject({
      state: 'failed',
      attempts: 2,
      error: { code: 'INTERNAL', message: 'second' },
    })
  })

  it('on stop, lets a job finish within the grace period', async () => {
    const pipeline = new FakePipeline('fake', { pauseAtStep: 2 })
    const r = await rig(pipeline)
    await r.worker.start()
    const job = await r.queue.enqueue(sampleRequest())
    await pipeline.paused()
    const stopping = r.worker.stop({ graceMs: 60_000 })
    pipeline.release()
    await stopping
    expect((await r.queue.get(job.id))?.state).toBe('succeeded')
  })

  it('on stop, requeues a job still running when the grace period ends, and claims nothing more', async () => {
    const pipeline = new FakePipeline('fake', { pauseAtStep: 2 })
    const r = await rig(pipeline)
    await r.worker.start()
    const job = await r.queue.enqueue(sampleRequest())
    await pipeline.paused()
    const waiting = await r.queue.enqueue(sampleRequest())
    const requeued = firstEvent(r.queue, job.id, 'requeued')
    await r.worker.stop({ graceMs: 1 })
    await requeued
    expect(await r.queue.get(job.id)).toMatchObject({ state: 'queued', attempts: 0 })
    expect((await r.queue.get(waiting.id))?.state).toBe('queued')
    expect(storedFiles(r.root)).toEqual([])
    expect(r.worker.running).toBe(0)
  })

  it('runs jobs left running by a dead process when it starts', async () => {
    const r = await rig(new FakePipeline())
    const job = await r.queue.enqueue(sampleRequest())
    const deadProcess = new DbQueue(r.handle, { instanceId: 'dead' })
    expect((await deadProcess.claim('gone'))?.job.id).toBe(job.id)
    await r.worker.start()
    expect(await finished(r.queue, job.id)).toMatchObject({ state: 'succeeded', attempts: 2 })
  })

  it('runs jobs side by side with several loops', async () => {
    const first = new FakePipeline('fake', { pauseAtStep: 1 })
    const r = await rig(first, {}, { workers: 2 })
    await r.worker.start()
    const a = await r.queue.enqueue(sampleRequest())
    const b = await r.queue.enqueue(sampleRequest())
    await first.paused()
    // the second loop completes b while a is paused in the first
    await firstEvent(r.queue, b.id, 'started')
    expect((await r.queue.get(a.id))?.state).toBe('running')
    first.release()
    expect((await finished(r.queue, a.id)).state).toBe('succeeded')
    expect((await finished(r.queue, b.id)).state).toBe('succeeded')
  })
})
