/**
 * What a job that runs more than once keeps: the images of the run that completed, each once; an earlier
 * run's images are deleted (or swept later) even when its own cleanup failed, an image whose record was
 * never written is deleted, and a completion whose outcome is unknown keeps its images.
 * @module
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { Asset, Job } from '../core/job.js'
import { AssetsRepo } from '../db/assets-repo.js'
import { type DatabaseHandle, openDatabase } from '../db/connect.js'
import { DbQueue } from '../jobs/db-queue.js'
import { sampleRequest } from '../jobs/test-requests.js'
import { LocalStore } from '../storage/local-store.js'
import { FakePipeline } from './fake-pipeline.js'
import { Worker } from './worker.js'

interface Faults {
  /** Calls (1-based) of `complete` that throw this error instead of completing. */
  completeFails?: Map<number, Error>
  /** The first this many `deleteMany` calls throw (the database refuses deletes, as in the issue). */
  deletesFail?: number
  /** Calls (1-based) of `create` that throw. */
  createFails?: Set<number>
}

interface Rig {
  readonly handle: DatabaseHandle
  readonly queue: DbQueue
  readonly assets: AssetsRepo
  readonly worker: Worker
  readonly root: string
}

const rigs: Rig[] = []

afterEach(async () => {
  for (const r of rigs.splice(0)) {
    await r.worker.stop({ graceMs: 0 })
    await r.queue.close()
    await r.handle.close()
    rmSync(r.root, { recursive: true, force: true })
  }
})

function dropped(message: string): Error {
  return Object.assign(new Error(message), { code: '57P01' })
}

async function rig(faults: Faults): Promise<Rig> {
  const handle = await openDatabase('sqlite::memory:')
  const queue = new DbQueue(handle, { retryBackoffMs: 0, finishPollMs: 5 })
  const assets = new AssetsRepo(handle.db)
  const root = mkdtempSync(join(tmpdir(), 'pigment-run-job-'))
  const store = new LocalStore({ root, secret: 'run-job-test-secret-0123456789', publicBaseUrl: 'http://x' })
  let completes = 0
  let creates = 0
  let deletes = 0
  const complete: DbQueue['complete'] = async (id, lease, assetIds) => {
    const failure = faults.completeFails?.get(++completes)
    if (failure !== undefined) throw failure
    return queue.complete(id, lease, assetIds)
  }
  const consumer = new Proxy(queue, {
    get(target, property) {
      if (property === 'complete') return complete
      const value: unknown = Reflect.get(target, property, target)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
  const worker = new Worker({
    queue: consumer,
    store,
    assets: {
      create: async (asset: Asset) => {
        if (faults.createFails?.has(++creates)) throw dropped('insert lost')
        return assets.create(asset)
      },
      deleteMany: async (ids: readonly string[]) => {
        if (++deletes <= (faults.deletesFail ?? 0)) throw new Error('delete refused')
        return assets.deleteMany(ids)
      },
      setExpiryForJob: (jobId, at) => assets.setExpiryForJob(jobId, at),
      listByJob: (jobId) => assets.listByJob(jobId),
    },
    pipelines: { acquire: async () => ({ pipeline: new FakePipeline(), release() {} }) },
    progressIntervalMs: 0,
    pollMs: 20,
  })
  const made = { handle, queue, assets, worker, root }
  rigs.push(made)
  return made
}

function storedFiles(root: string): string[] {
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && !entry.name.endsWith('.json'))
    .map((entry) => entry.name)
    .sort()
}

/** The finished job, once the worker is also done with it (its tidying runs after the completion). */
async function finished(r: Rig, jobId: string): Promise<Job> {
  const job = await r.queue.waitUntilFinished(jobId, 20_000)
  if (job === null) throw new Error('job vanished')
  await r.worker.stop({ graceMs: 10_000 })
  return job
}

describe('a job that runs more than once', () => {
  it('keeps only the completed run’s images when the first run could not delete its own', async () => {
    const r = await rig({
      completeFails: new Map([[1, new Error('trigger: no')]]),
      deletesFail: Number.POSITIVE_INFINITY,
    })
    await r.worker.start()
    const job = await r.queue.enqueue(sampleRequest({ n: 3 }), { maxAttempts: 3 })
    const done = await finished(r, job.id)
    expect(done).toMatchObject({ state: 'succeeded', attempts: 2 })
    expect(new Set(done.assetIds).size).toBe(3)
    // the first run's records stay (deletes refused) but are not the job's; its files are gone
    const records = await r.assets.listByJob(job.id)
    expect(records).toHaveLength(6)
    const own = records.filter((asset) => done.assetIds.includes(asset.id))
    expect(own.map((asset) => asset.key.split('/').pop())).toEqual([
      `${job.id}_0_r2.png`,
      `${job.id}_1_r2.png`,
      `${job.id}_2_r2.png`,
    ])
    expect(storedFiles(r.root)).toEqual(own.map((asset) => asset.key.split('/').pop()).sort())
  })

  it('deletes an earlier run’s leftover images and records once a later run completes', async () => {
    const r = await rig({ completeFails: new Map([[1, new Error('trigger: no')]]), deletesFail: 1 })
    await r.worker.start()
    const job = await r.queue.enqueue(sampleRequest({ n: 2 }), { maxAttempts: 3 })
    const done = await finished(r, job.id)
    expect(done).toMatchObject({ state: 'succeeded', attempts: 2 })
    const records = await r.assets.listByJob(job.id)
    expect(records.map((asset) => asset.id).sort()).toEqual([...done.assetIds].sort())
    expect(storedFiles(r.root)).toEqual([`${job.id}_0_r2.png`, `${job.id}_1_r2.png`])
  })

  it('deletes an image whose record could not be written', async () => {
    const r = await rig({ createFails: new Set([2]) })
    await r.worker.start()
    const job = await r.queue.enqueue(sampleRequest({ n: 2 }), { maxAttempts: 2 })
    const done = await finished(r, job.id)
    expect(done).toMatchObject({ state: 'succeeded', attempts: 2 })
    expect(storedFiles(r.root)).toEqual([`${job.id}_0_r2.png`, `${job.id}_1_r2.png`])
    expect(await r.assets.listByJob(job.id)).toHaveLength(2)
  })

  it('keeps the images when the connection drops during completion, for the sweep to judge', async () => {
    const r = await rig({ completeFails: new Map([[1, dropped('terminating connection')]]) })
    await r.worker.start()
    const job = await r.queue.enqueue(sampleRequest({ n: 1 }), { maxAttempts: 2 })
    const done = await finished(r, job.id)
    expect(done).toMatchObject({ state: 'succeeded', attempts: 2 })
    // the first run's image was kept while its completion was in doubt, then removed by the second run
    expect(storedFiles(r.root)).toEqual([`${job.id}_0_r2.png`])
    expect((await r.assets.listByJob(job.id)).map((asset) => asset.id)).toEqual(done.assetIds)
  })
})
