/**
 * `pigment worker`: one worker process of the fleet. It opens the shared records (Postgres), the shared
 * image store (S3) and the dispatch queues of its models (BullMQ on Redis), loads models on first use
 * (or at start with `warm`), and runs jobs until SIGTERM/SIGINT, when running jobs get the grace period
 * and the rest go back to the queue. A job it ends has its credit charge settled here, before the end is
 * announced to the API processes (their periodic sweep is left as the safety net). The only port it
 * opens is the optional `--metrics-port`.
 * @module
 */
import pino from 'pino'
import { openComfy, routePipelines } from '../comfyui/index.js'
import type { Config } from '../config/schema.js'
import { CreditLedger } from '../credits/credit-ledger.js'
import { JobSettler } from '../credits/job-settlement.js'
import { AssetsRepo } from '../db/assets-repo.js'
import { openDatabase } from '../db/connect.js'
import { FleetWorker } from '../jobs/bullmq/fleet-worker.js'
import { loadPipeline } from '../pipelines/load-pipeline.js'
import type { ImagePipeline } from '../pipelines/pipeline.js'
import { probeDevice } from '../pipelines/session.js'
import { instrumentQueue } from '../server/instrumented-queue.js'
import { ServerModelCatalog } from '../server/model-catalog.js'
import { S3Store } from '../storage/s3-store.js'
import { ModelCache } from '../worker/model-cache.js'
import { openFleetQueue, settleBeforeAnnouncing } from './open-queue.js'
import { type MetricsServer, serveMetrics, WorkerMetrics } from './worker-metrics.js'

export interface FleetWorkerProcess {
  readonly worker: FleetWorker
  readonly models: readonly string[]
  readonly metrics: WorkerMetrics
  /** Where `/metrics` is served; null without `metricsPort`. */
  readonly metricsUrl: string | null
  shutdown(graceSeconds?: number): Promise<void>
}

export interface ComposeWorkerOptions {
  readonly logger?: pino.Logger
  /** Replaced by benchmarks with a pipeline that costs nothing. */
  readonly loadPipeline?: (dir: string) => Promise<ImagePipeline>
  /** Worker id recorded on jobs and in the advert (default `<host>:<pid>`). */
  readonly id?: string
}

export async function composeFleetWorker(
  config: Config,
  options: ComposeWorkerOptions = {},
): Promise<FleetWorkerProcess> {
  const { logger } = options
  if (options.loadPipeline === undefined) await probeDevice(config.device)
  const database = await openDatabase(config.databaseUrl)
  const opened = openComfy(config)
  await opened.backend?.start()
  const catalog = await ServerModelCatalog.open(
    { ...config, models: opened.localModels },
    undefined,
    opened.backend ?? undefined,
  )
  const models = catalog.names
  const settler = new JobSettler(new CreditLedger(database), { factors: config.credits.modelFactors })
  const queue = await openFleetQueue(config, database, {
    hearsEvents: false,
    concurrency: config.workers,
    ...(logger === undefined ? {} : { logger }),
    onJobEnded: settleBeforeAnnouncing(settler, logger),
  })
  const load = options.loadPipeline ?? ((dir: string) => loadPipeline(dir, { device: config.device }))
  const concurrency = Math.max(1, config.workers)
  // read when scraped, and the server starts after the cache and the worker exist
  const metrics: WorkerMetrics = new WorkerMetrics({
    loaded: () => cache.loaded(),
    running: () => worker.running,
    slots: concurrency * models.length,
  })
  const cache: ModelCache = new ModelCache({
    load: metrics.timeLoads((model) => load(catalog.folder(model).dir)),
    ...(config.modelMemoryBytes > 0 ? { budgetBytes: config.modelMemoryBytes } : {}),
  })
  const { storage } = config
  const store = new S3Store({
    bucket: storage.bucket,
    prefix: storage.prefix,
    region: storage.region,
    forcePathStyle: storage.forcePathStyle,
    ...(storage.endpoint === '' ? {} : { endpoint: storage.endpoint }),
  })
  const worker = new FleetWorker({
    queue,
    consumer: instrumentQueue(queue, metrics),
    redisUrl: config.queueUrl,
    store,
    assets: new AssetsRepo(database.db),
    pipelines: routePipelines(opened.backend, cache),
    models,
    concurrency,
    retentionMs: Math.round(config.retentionSeconds * 1000),
    // each progress report is a Postgres write and a message to every API process: ten a second per job
    // is plenty for a progress bar, and the first and last step of each image always go out
    progressIntervalMs: 100,
    previewEvery: config.previewEvery,
    lockMs: Math.round(config.workerLockSeconds * 1000),
    // recover expired leases and lost tickets a few times per lock period
    sweepEveryMs: Math.max(1000, Math.round((config.workerLockSeconds * 1000) / 3)),
    ...(options.id === undefined ? {} : { id: options.id }),
    ...(logger === undefined ? {} : { logger }),
  })
  // opened before any job is taken, so a port in use stops the process before it does work
  const server: MetricsServer | null =
    config.metricsPort === 0 ? null : await serveMetrics(metrics, config.host, config.metricsPort)
  await worker.start().catch(async (error: unknown) => {
    await server?.close()
    throw error
  })
  let stopping: Promise<void> | undefined
  return {
    worker,
    models,
    metrics,
    metricsUrl: server === null ? null : `${server.url}/metrics`,
    shutdown(graceSeconds = config.graceSeconds) {
      stopping ??= (async () => {
        await worker.stop({ graceMs: Math.round(graceSeconds * 1000) })
        await server?.close()
        opened.backend?.close()
        await cache.dispose()
        await queue.close()
        await database.close()
      })()
      return stopping
    },
  }
}

/** The command's body: logs, compose, and signals (a second signal exits at once). */
export async function runFleetWorker(config: Config, options: ComposeWorkerOptions = {}): Promise<void> {
  const logger = options.logger ?? pino({ level: config.logLevel })
  const running = await composeFleetWorker(config, { ...options, logger })
  logger.info(
    {
      id: running.worker.id,
      models: running.models,
      concurrency: Math.max(1, config.workers),
      ...(running.metricsUrl === null ? {} : { metrics: running.metricsUrl }),
    },
    'pigment worker is taking jobs',
  )
  let signals = 0
  const onSignal = (signal: NodeJS.Signals) => {
    signals++
    if (signals > 1) process.exit(1)
    logger.info({ signal }, 'signal received; finishing running jobs')
    running.shutdown().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed')
        process.exit(1)
      },
    )
  }
  process.on('SIGTERM', onSignal)
  process.on('SIGINT', onSignal)
}
