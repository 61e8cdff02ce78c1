/**
 * In-memory stand-ins for `ApiDeps`, for route tests through `buildApp(deps).inject()`: a queue that keeps
 * jobs in a Map and publishes events, asset records, a blob store, and a one-model catalog. `FakeWorker`
 * moves jobs along by hand (start, step, finish, fail), so tests choose exactly what the client sees.
 * Not part of the build (`src/**\/testing` is excluded).
 * @module
 */
import { createHash } from 'node:crypto'
import type { IncomingHttpHeaders } from 'node:http'
import { loadConfig } from '../../../config/load.js'
import type { Config } from '../../../config/schema.js'
import { errors } from '../../../core/errors.js'
import type { GenerationRequest } from '../../../core/generation-request.js'
import { newId } from '../../../core/ids.js'
import type { Asset, Job, JobProgress } from '../../../core/job.js'
import type {
  JobEvent,
  JobEvents,
  JobEventType,
  JobFilter,
  JobPage,
  JobProducer,
  QueueCounts,
} from '../../../jobs/job-queue.js'
import type { BlobStore } from '../../../storage/blob-store.js'
import type { Caller } from '../../auth.js'
import type { ApiDeps, AssetRecords, ModelCatalog, ServerState } from '../deps.js'
import { PigmentMetrics } from '../pigment-metrics.js'

const FINAL: ReadonlySet<string> = new Set(['succeeded', 'failed', 'canceled', 'expired'])

export class FakeQueue implements JobProducer, JobEvents {
  readonly jobs = new Map<string, Job>()
  readonly #events = new Map<string, JobEvent[]>()
  readonly #listeners = new Map<string, Set<(event: JobEvent) => void>>()
  limit = Number.POSITIVE_INFINITY

  async enqueue(request: GenerationRequest, options: { readonly maxAttempts?: number } = {}): Promise<Job> {
    if ((await this.counts()).queued >= this.limit) {
      throw errors.QUEUE_FULL('the queue is full', { retryAfterSeconds: 7 })
    }
    const job: Job = {
      id: newId(),
      state: 'queued',
      request,
      priority: request.priority,
      attempts: 0,
      maxAttempts: options.maxAttempts ?? 3,
      progress: null,
      error: null,
      assetIds: [],
      ownerKeyId: request.origin.keyId,
      createdAt: new Date(),
      startedAt: null,
      finishedAt: null,
      expiresAt: null,
    }
    this.update(job, 'queued')
    return job
  }

  /** Stores the new record and publishes its event, as a real queue's transition would. */
  update(job: Job, type: JobEventType, extra: Partial<Pick<JobEvent, 'progress' | 'previewPng'>> = {}): Job {
    this.jobs.set(job.id, job)
    const events = this.#events.get(job.id) ?? []
    const event: JobEvent = { seq: events.length + 1, type, job, ...extra }
    events.push(event)
    this.#events.set(job.id, events)
    for (const listener of [...(this.#listeners.get(job.id) ?? [])]) listener(event)
    return job
  }

  async get(id: string): Promise<Job | null> {
    return this.jobs.get(id) ?? null
  }

  async list(
    filter: JobFilter,
    page: { readonly limit: number; readonly cursor?: string | null },
  ): Promise<JobPage> {
    const states = filter.state === undefined ? undefined : [filter.state].flat()
    const all = [...this.jobs.values()]
      .filter((job) => states === undefined || states.includes(job.state))
      .filter((job) => filter.model === undefined || job.request.model === filter.model)
      .filter((job) => filter.ownerKeyId === undefined || job.ownerKeyId === filter.ownerKeyId)
      .sort((a, b) => b.id.localeCompare(a.id))
    const start = page.cursor ? all.findIndex((job) => job.id === page.cursor) + 1 : 0
    const jobs = all.slice(start, start + page.limit)
    const more = start + page.limit < all.length
    return { jobs, nextCursor: more ? jobs[jobs.length - 1].id : null }
  }

  async cancel(id: string): Promise<Job | null> {
    const job = this.jobs.get(id)
    if (job === undefined) return null
    if (job.state === 'queued') {
      return this.update({ ...job, state: 'canceled', finishedAt: new Date() }, 'canceled')
    }
    if (job.state === 'running') {
      const flagged = { ...job, cancelRequested: true }
      this.jobs.set(id, flagged)
      return flagged
    }
    return job
  }

  async position(id: string): Promise<number | null> {
    const queued = [...this.jobs.values()].filter((job) => job.state === 'queued')
    const index = queued.findIndex((job) => job.id === id)
    return index < 0 ? null : index
  }

  async counts(): Promise<QueueCounts> {
    const count = (state: string) => [...this.jobs.values()].filter((job) => job.state === state).length
    return {
      queued: count('queued'),
      running: count('running'),
      succeeded: count('succeeded'),
      failed: count('failed'),
      canceled: count('canceled'),
      retried: 0,
    }
  }

  async purge(): Promise<number> {
    const queued = [...this.jobs.values()].filter((job) => job.state === 'queued')
    for (const job of queued) await this.cancel(job.id)
    return queued.length
  }

  subscribe(jobId: string, listener: (event: JobEvent) => void, afterSeq?: number): () => void {
    if (afterSeq !== undefined) {
      for (const event of this.#events.get(jobId) ?? []) if (event.seq > afterSeq) listener(event)
    }
    const listeners = this.#listeners.get(jobId) ?? new Set()
    listeners.add(listener)
    this.#listeners.set(jobId, listeners)
    return () => listeners.delete(listener)
  }

  async waitUntilFinished(jobId: string, timeoutMs: number): Promise<Job | null> {
    const job = this.jobs.get(jobId)
    if (job === undefined) return null
    if (FINAL.has(job.state)) return job
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        unsubscribe()
        resolve(this.jobs.get(jobId) ?? null)
      }, timeoutMs)
      const unsubscribe = this.subscribe(jobId, (event) => {
        if (!FINAL.has(event.job.state)) return
        clearTimeout(timer)
        unsubscribe()
        resolve(event.job)
      })
    })
  }
}

export class FakeAssets implements AssetRecords {
  readonly records = new Map<string, Asset>()
  constructor(readonly storage: FakeStore) {}

  async get(id: string): Promise<Asset | null> {
    return this.records.get(id) ?? null
  }

  async listForJob(job: Pick<Job, 'id' | 'assetIds'>): Promise<readonly Asset[]> {
    return job.assetIds.flatMap((id) => this.records.get(id) ?? [])
  }

  /** Every record made for a job, in image order (tests). */
  byJob(jobId: string): Asset[] {
    return [...this.records.values()]
      .filter((asset) => asset.jobId === jobId)
      .sort((a, b) => a.index - b.index)
  }

  /** Newest first; the cursor is the offset of the next page. */
  async list(
    filter: { readonly ownerKeyId?: string | null },
    page: { readonly limit: number; readonly cursor: string | null },
  ): Promise<{ readonly assets: readonly Asset[]; readonly nextCursor: string | null }> {
    const owned = [...this.records.values()]
      .filter((asset) => filter.ownerKeyId === undefined || asset.ownerKeyId === filter.ownerKeyId)
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : -1))
    const start = page.cursor === null ? 0 : Number(page.cursor)
    const end = start + page.limit
    return { assets: owned.slice(start, end), nextCursor: end < owned.length ? String(end) : null }
  }

  async delete(id: string): Promise<Asset | null> {
    const asset = this.records.get(id) ?? null
    if (asset !== null) await this.storage.delete(asset.key)
    this.records.delete(id)
    return asset
  }
}

export class FakeStore implements BlobStore {
  readonly kind = 'local' as const
  readonly bucket = null
  readonly blobs = new Map<string, Uint8Array>()

  async put(key: string, bytes: Uint8Array): Promise<void> {
    this.blobs.set(key, bytes)
  }

  async get(key: string): Promise<Uint8Array | null> {
    return this.blobs.get(key) ?? null
  }

  async url(key: string, ttlSeconds: number): Promise<string> {
    return `http://files.test/${key}?ttl=${ttlSeconds}`
  }

  async delete(key: string): Promise<void> {
    this.blobs.delete(key)
  }
}

export const FAKE_MODEL = 'tiny'

export function fakeModels(): ModelCatalog & { warmed: string[] } {
  const warmed: string[] = []
  const profile = {
    name: FAKE_MODEL,
    defaults: {
      steps: 4,
      cfg: 2,
      sampler: 'euler',
      scheduler: 'simple',
      width: 64,
      height: 64,
      negativePrompt: '',
    },
    limits: { minSize: 16, maxSize: 512, sizeMultiple: 8, maxSteps: 50, minCfg: 0, maxCfg: 20 },
  }
  return {
    warmed,
    async list() {
      return [
        {
          name: FAKE_MODEL,
          family: 'sd',
          aliases: ['alias'],
          loaded: warmed.length > 0,
          isDefault: true,
          defaults: profile.defaults,
          limits: profile.limits,
        },
      ]
    },
    async profile(name) {
      if (name === undefined || name === FAKE_MODEL || name === 'alias') return profile
      throw errors.MODEL_NOT_FOUND(`no model "${name}"; available: ${FAKE_MODEL}`, { field: 'model' })
    },
    async warmup(name) {
      await this.profile(name)
      warmed.push(name)
      return { model: FAKE_MODEL, seconds: 0.01 }
    },
    async readiness() {
      return { ready: true }
    },
  }
}

/** Moves fake jobs through their states and stores tiny fake images. */
export class FakeWorker {
  constructor(
    readonly queue: FakeQueue,
    readonly assets: FakeAssets,
  ) {}

  start(jobId: string): Job {
    const job = this.#job(jobId)
    return this.queue.update(
      { ...job, state: 'running', attempts: job.attempts + 1, startedAt: new Date() },
      'started',
    )
  }

  step(jobId: string, progress: JobProgress, previewPng?: string): Job {
    const job = { ...this.#job(jobId), progress }
    return this.queue.update(job, 'progress', {
      progress,
      ...(previewPng === undefined ? {} : { previewPng }),
    })
  }

  async succeed(jobId: string, retentionMs = 3_600_000): Promise<Job> {
    const job = this.#job(jobId)
    const now = new Date()
    const ids: string[] = []
    for (let index = 0; index < job.request.n; index++) {
      const bytes = new TextEncoder().encode(`image ${job.id} ${index}`)
      const asset: Asset = {
        id: newId(),
        jobId: job.id,
        ownerKeyId: job.ownerKeyId,
        key: `outputs/${job.id}_${index}.png`,
        index,
        model: job.request.model,
        seed: job.request.seed + index,
        width: job.request.width,
        height: job.request.height,
        format: job.request.output.format,
        bytes: bytes.length,
        sha256: createHash('sha256').update(bytes).digest('hex'),
        parameters: { prompt: job.request.prompt },
        createdAt: now,
        expiresAt: new Date(now.getTime() + retentionMs),
      }
      await this.assets.storage.put(asset.key, bytes)
      this.assets.records.set(asset.id, asset)
      ids.push(asset.id)
    }
    const expiresAt = new Date(now.getTime() + retentionMs)
    return this.queue.update(
      { ...job, state: 'succeeded', assetIds: ids, finishedAt: now, expiresAt },
      'succeeded',
    )
  }

  fail(jobId: string, code: string, message: string): Job {
    const job = this.#job(jobId)
    return this.queue.update(
      { ...job, state: 'failed', error: { code, message }, finishedAt: new Date() },
      'failed',
    )
  }

  /** Runs every job as soon as it is queued: start, one progress event per step, succeed. */
  autoRun(): void {
    const original = this.queue.enqueue.bind(this.queue)
    this.queue.enqueue = async (request, options) => {
      const job = await original(request, options)
      setImmediate(async () => {
        this.start(job.id)
        for (let step = 1; step <= job.request.steps; step++) {
          this.step(job.id, { image: 0, images: job.request.n, step, steps: job.request.steps })
        }
        await this.succeed(job.id)
      })
      return job
    }
  }

  #job(jobId: string): Job {
    const job = this.queue.jobs.get(jobId)
    if (job === undefined) throw new Error(`fake worker: no job ${jobId}`)
    return job
  }
}

export interface FakeDeps extends ApiDeps {
  readonly jobs: FakeQueue
  readonly assets: FakeAssets
  readonly storage: FakeStore
  readonly worker: FakeWorker
  readonly state: { accepting: boolean }
}

const OPEN_CALLER: Caller = { keyId: null, role: 'admin', remainingCredits: null }

export function fakeDeps(
  overrides: { config?: Partial<Config>; caller?: (h: IncomingHttpHeaders) => Caller } = {},
) {
  const config = { ...loadConfig({ env: {}, cwd: '/tmp' }), syncTimeoutSeconds: 2, ...overrides.config }
  const jobs = new FakeQueue()
  const storage = new FakeStore()
  const assets = new FakeAssets(storage)
  const state: ServerState & { accepting: boolean } = { accepting: true }
  const caller = overrides.caller
  const deps: FakeDeps = {
    config,
    jobs,
    assets,
    storage,
    worker: new FakeWorker(jobs, assets),
    models: fakeModels(),
    authenticate: async (headers) => (caller === undefined ? OPEN_CALLER : caller(headers)),
    metrics: new PigmentMetrics(async () => {
      const counts = await jobs.counts()
      return { queued: counts.queued, running: counts.running }
    }),
    probeDatabase: async () => {},
    state,
  }
  return deps
}
