/**
 * Prometheus metrics of a `pigment worker` process, served on `--metrics-port`. The job metrics are the
 * API's own (`PigmentMetrics`, fed by the same `instrumentQueue` wrapper), so a dashboard sums them over
 * API processes with in-process workers and worker processes alike; a worker adds what only it knows:
 * model load times, the models it holds, and its busy and total slots. Fleet-wide numbers (queue depth)
 * stay on the API processes, where one scrape sees them whole.
 * @module
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { PigmentMetrics } from '../api/shared/pigment-metrics.js'
import { CollectedGauge, Histogram, PROMETHEUS_CONTENT_TYPE } from '../api/shared/prometheus.js'
import type { LoadedModel } from '../worker/model-cache.js'

/** Seconds; from a tiny test model to a large model read from a slow disk. */
const LOAD_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300]

export interface WorkerGauges {
  /** Models loaded now (the model cache). */
  loaded(): readonly LoadedModel[]
  /** Jobs running now. */
  running(): number
  /** Jobs this process runs at once, over all its models. */
  readonly slots: number
}

export class WorkerMetrics extends PigmentMetrics {
  readonly modelLoad = this.registry.register(
    new Histogram('pigment_model_load_seconds', 'Time to load a model, by model.', LOAD_BUCKETS),
  )

  constructor(gauges: WorkerGauges) {
    super()
    this.registry.register(
      new CollectedGauge('pigment_model_loaded', 'Models loaded now (1), by model.', async () =>
        gauges.loaded().map((model) => ({ labels: { model: model.model }, value: 1 })),
      ),
    )
    this.registry.register(
      new CollectedGauge('pigment_model_loaded_bytes', 'Estimated size of each loaded model.', async () =>
        gauges.loaded().map((model) => ({ labels: { model: model.model }, value: model.bytes })),
      ),
    )
    this.registry.register(
      new CollectedGauge(
        'pigment_worker_slots',
        'Jobs this worker process runs at once, by use.',
        async () => {
          const busy = gauges.running()
          return [
            { labels: { state: 'busy' }, value: busy },
            { labels: { state: 'free' }, value: Math.max(0, gauges.slots - busy) },
          ]
        },
      ),
    )
  }

  /** Wraps a model loader so each successful load is timed. */
  timeLoads<T>(load: (model: string) => Promise<T>): (model: string) => Promise<T> {
    return async (model) => {
      const started = performance.now()
      const loaded = await load(model)
      this.modelLoad.observe((performance.now() - started) / 1000, { model })
      return loaded
    }
  }
}

export interface MetricsServer {
  /** http://host:port */
  readonly url: string
  close(): Promise<void>
}

/** `GET /metrics` on its own small HTTP server (a worker has no Fastify app); anything else is a 404. */
export async function serveMetrics(
  metrics: Pick<PigmentMetrics, 'render'>,
  host: string,
  port: number,
): Promise<MetricsServer> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '').split('?')[0]
    if (request.method !== 'GET' || path !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try GET /metrics\n')
      return
    }
    metrics.render().then(
      (text) => response.writeHead(200, { 'content-type': PROMETHEUS_CONTENT_TYPE }).end(text),
      (error: unknown) =>
        response.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${String(error)}\n`),
    )
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const { port: bound } = server.address() as AddressInfo
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
