/**
 * Wires the server from the config: database → queue → storage → models → workers → HTTP app. Nothing
 * here listens or handles signals (`run-server.ts` does), so the benchmark and tests can compose a server
 * with a fake pipeline. `shutdown` is the graceful path: stop taking work, let running jobs finish within
 * the grace period (the rest go back to the queue), close the HTTP server, then the database.
 * @module
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import { createAuthenticator } from '../api/auth.js'
import type { ApiDeps } from '../api/shared/deps.js'
import { PigmentMetrics } from '../api/shared/pigment-metrics.js'
import { buildApp } from '../app.js'
import {
  asGraph,
  type ComfyBackend,
  openComfy,
  routePipelines,
  runPassthrough,
  workersFor,
} from '../comfyui/index.js'
import type { Config } from '../config/schema.js'
import { JobSettler } from '../credits/job-settlement.js'
import { AssetsRepo } from '../db/assets-repo.js'
import { openDatabase } from '../db/connect.js'
import { fleetStatusSource } from '../fleet/fleet-status.js'
import { openServerQueue, settleBeforeAnnouncing } from '../fleet/open-queue.js'
import { type ServerWorker, serverWorker } from '../fleet/server-worker.js'
import { BullmqQueue } from '../jobs/bullmq/bullmq-queue.js'
import type { JobQueue } from '../jobs/job-queue.js'
import { openAccounts, refuseUnsafeExposure } from '../keys/accounts.js'
import { loadPipeline } from '../pipelines/load-pipeline.js'
import type { ImagePipeline } from '../pipelines/pipeline.js'
import { probeDevice } from '../pipelines/session.js'
import type { BlobStore } from '../storage/blob-store.js'
import { LocalStore } from '../storage/local-store.js'
import { S3Store } from '../storage/s3-store.js'
import { loadOrCreateSecret } from '../storage/signed-url.js'
import { ModelCache } from '../worker/model-cache.js'
import { type RetentionSweeper, startRetentionSweeper } from '../worker/retention-sweeper.js'
import { assetRecords } from './asset-records.js'
import { instrumentQueue } from './instrumented-queue.js'
import { ServerModelCatalog } from './model-catalog.js'
import { signedFiles } from './signed-files.js'

export interface ComposeOptions {
  readonly logger?: FastifyBaseLogger
  /** Loads a model's pipeline from its folder; replaced by benchmarks with a pipeline that costs nothing. */
  readonly loadPipeline?: (dir: string) => Promise<ImagePipeline>
}

export interface ComposedServer {
  readonly app: FastifyInstance
  readonly deps: ApiDeps
  readonly queue: JobQueue
  readonly worker: ServerWorker | null
  /** Listens on the configured host and port; resolves with the address, e.g. http://127.0.0.1:7860. */
  listen(): Promise<string>
  /** Graceful stop; safe to call more than once. */
  shutdown(graceSeconds?: number): Promise<void>
}

export async function composeServer(config: Config, options: ComposeOptions = {}): Promise<ComposedServer> {
  const logger = options.logger
  mkdirSync(config.dataDir, { recursive: true })
  const databaseUrl = config.databaseUrl || `sqlite://${join(config.dataDir, 'pigment.db')}`
  const database = await openDatabase(databaseUrl)
  const accounts = openAccounts(database, config)
  await refuseUnsafeExposure(config, accounts.keys).catch(async (error: unknown) => {
    await database.close()
    throw error
  })
  let comfy: ComfyBackend | null = null
  const catalog = await (async () => {
    const opened = openComfy(config, config.workers > 0)
    comfy = opened.backend
    // probes every ComfyUI once: one that is down leaves its models unready, it does not stop the server
    await comfy?.start()
    return ServerModelCatalog.open({ ...config, models: opened.localModels }, undefined, comfy ?? undefined)
  })().catch(async (error: unknown) => {
    comfy?.close()
    await database.close()
    throw error
  })
  // in-process workers run models on the device: a missing GPU stack stops startup with the remedy
  if (config.workers > 0 && options.loadPipeline === undefined) {
    await probeDevice(config.device).catch(async (error: unknown) => {
      await database.close()
      throw error
    })
  }

  // With a fleet queue, jobs this process ends (its own workers' and the API's cancels) are settled before
  // other API processes hear of the end, as in `pigment worker`; the charged queue below settles them too,
  // but only after the end has gone out on Redis.
  const settler = new JobSettler(accounts.ledger, { factors: accounts.factors })
  const baseQueue = await openServerQueue(config, database, {
    hearsEvents: true,
    concurrency: config.workers,
    ...(logger === undefined ? {} : { logger }),
    onJobEnded: settleBeforeAnnouncing(settler, logger),
  })
  const metrics = new PigmentMetrics(async () => {
    const counts = await queue.counts()
    return { queued: counts.queued, running: counts.running }
  })
  // Credits wrap the database queue itself: every submission is charged and every transition that ends a
  // job (the workers' included, through the metrics wrapper) settles its charge.
  const queue = instrumentQueue(accounts.charge(baseQueue), metrics)

  let listeningAt = ''
  const storage = openStorage(config, () => listeningAt)
  const assetsRepo = new AssetsRepo(database.db)
  const state = { accepting: true }
  const deps: ApiDeps = {
    config,
    jobs: queue,
    assets: assetRecords(assetsRepo, storage),
    storage,
    ...(storage instanceof LocalStore ? { signedFiles: signedFiles(storage) } : {}),
    models: catalog,
    ...(comfy === null ? {} : { comfy: comfyRunner(comfy) }),
    authenticate: createAuthenticator({
      apiKeys: config.apiKeys,
      host: config.host,
      insecure: config.insecure,
      keys: accounts.keys,
    }),
    accounts,
    metrics,
    ...(baseQueue instanceof BullmqQueue ? { fleet: fleetStatusSource(baseQueue) } : {}),
    records: database,
    probeDatabase: async () => {
      await queue.counts()
    },
    state,
  }

  const load = options.loadPipeline ?? ((dir: string) => loadPipeline(dir, { device: config.device }))
  const cache = new ModelCache({
    load: (model) => load(catalog.folder(model).dir),
    ...(config.modelMemoryBytes > 0 ? { budgetBytes: config.modelMemoryBytes } : {}),
  })
  catalog.attachWarmer({
    isLoaded: (model) => cache.loaded().some((loaded) => loaded.model === model),
    warmup: (model) => cache.warmup(model),
  })
  const workers = workersFor(config, comfy)
  const worker =
    workers === 0
      ? null
      : serverWorker(baseQueue, {
          queue,
          modelNames: catalog.names,
          store: storage,
          assets: assetsRepo,
          pipelines: routePipelines(comfy, cache),
          workers,
          retentionMs: Math.round(config.retentionSeconds * 1000),
          // every step reaches the event stream; SQLite takes a progress write in well under a step's time
          progressIntervalMs: 0,
          previewEvery: config.previewEvery,
          probeRecords: () => queue.counts(),
          ...(logger === undefined ? {} : { logger }),
        })
  // Crash recovery runs before anything can claim: jobs a killed process left running go back to the queue.
  const recovered = await queue.recoverStale()
  if (recovered > 0) logger?.info({ recovered }, 'requeued jobs left running by a previous process')
  // A short retention (tests, demos) needs sweeps often enough for expiry to be seen on time.
  const sweepEveryMs = Math.round(Math.min(30_000, Math.max(250, (config.retentionSeconds * 1000) / 4)))
  let sweeper: RetentionSweeper | undefined

  const app = await buildApp(deps, logger === undefined ? {} : { logger })
  let stopping: Promise<void> | undefined

  return {
    app,
    deps,
    queue,
    worker,
    async listen() {
      listeningAt = await app.listen({ host: config.host, port: config.port })
      await worker?.start()
      sweeper = startRetentionSweeper(
        queue,
        assetsRepo,
        storage,
        sweepEveryMs,
        logger === undefined ? {} : { logger },
      )
      return listeningAt
    },
    shutdown(graceSeconds = config.graceSeconds) {
      stopping ??= (async () => {
        state.accepting = false
        logger?.info({ graceSeconds }, 'shutting down: no new work; running jobs may finish')
        const closing = app.close()
        await worker?.stop({ graceMs: Math.round(graceSeconds * 1000) })
        // Jobs are finished or requeued: answer what is still waiting (sync waits, event streams) by closing.
        app.server.closeAllConnections()
        await closing
        sweeper?.stop()
        comfy?.close()
        await cache.dispose()
        await queue.close()
        await database.close()
        logger?.info('shut down')
      })()
      return stopping
    },
  }
}

function comfyRunner(backend: ComfyBackend): NonNullable<ApiDeps['comfy']> {
  return {
    async run(graph, images, signal) {
      const result = await runPassthrough(backend, asGraph(graph, 'input.payload.prompt'), images, signal)
      const device = backend.servers.find((server) => server.url === result.server)?.state.device ?? ''
      return { promptId: result.promptId, device, images: result.images }
    },
  }
}

function openStorage(config: Config, listeningAt: () => string): BlobStore {
  const { storage } = config
  if (storage.kind === 's3') {
    return new S3Store({
      bucket: storage.bucket,
      prefix: storage.prefix,
      region: storage.region,
      forcePathStyle: storage.forcePathStyle,
      ...(storage.endpoint === '' ? {} : { endpoint: storage.endpoint }),
    })
  }
  return new LocalStore({
    root: join(config.dataDir, 'images'),
    publicBaseUrl: () => config.publicBaseUrl || listeningAt(),
    secret: loadOrCreateSecret(config.dataDir),
  })
}
