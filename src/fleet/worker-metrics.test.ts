import { afterEach, describe, expect, it } from 'vitest'
import { type MetricsServer, serveMetrics, WorkerMetrics } from './worker-metrics.js'

describe('worker metrics', () => {
  let server: MetricsServer | undefined
  afterEach(async () => {
    await server?.close()
    server = undefined
  })

  it('reports load times, loaded models and slots beside the job metrics the API reports', async () => {
    let running = 1
    const metrics = new WorkerMetrics({
      loaded: () => [{ model: 'tiny-sd', bytes: 2048, inUse: 1 }],
      running: () => running,
      slots: 2,
    })
    const load = metrics.timeLoads(async (model: string) => `pipeline of ${model}`)
    expect(await load('tiny-sd')).toBe('pipeline of tiny-sd')
    metrics.jobsFinished.inc({ state: 'succeeded' })
    const text = await metrics.render()
    expect(text).toContain('pigment_model_load_seconds_count{model="tiny-sd"} 1')
    expect(text).toContain('pigment_model_loaded{model="tiny-sd"} 1')
    expect(text).toContain('pigment_model_loaded_bytes{model="tiny-sd"} 2048')
    expect(text).toContain('pigment_worker_slots{state="busy"} 1')
    expect(text).toContain('pigment_worker_slots{state="free"} 1')
    expect(text).toContain('pigment_jobs_finished_total{state="succeeded"} 1')
    // no queue depth: that is the fleet's, reported once by the API processes
    expect(text).not.toContain('pigment_queue_depth')
    running = 2
    expect(await metrics.render()).toContain('pigment_worker_slots{state="free"} 0')
  })

  it('does not time a load that failed', async () => {
    const metrics = new WorkerMetrics({ loaded: () => [], running: () => 0, slots: 1 })
    const load = metrics.timeLoads(async (): Promise<string> => {
      throw new Error('no such model')
    })
    await expect(load('missing')).rejects.toThrow('no such model')
    expect(await metrics.render()).not.toContain('pigment_model_load_seconds_count')
  })

  it('serves GET /metrics in the Prometheus text format and nothing else', async () => {
    const metrics = new WorkerMetrics({ loaded: () => [], running: () => 0, slots: 1 })
    metrics.jobsFinished.inc({ state: 'failed' })
    server = await serveMetrics(metrics, '127.0.0.1', 0)
    const response = await fetch(`${server.url}/metrics`)
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toContain('text/plain; version=0.0.4')
    expect(await response.text()).toContain('pigment_jobs_finished_total{state="failed"} 1')
    expect((await fetch(`${server.url}/`)).status).toBe(404)
    expect((await fetch(`${server.url}/metrics`, { method: 'POST' })).status).toBe(404)
  })
})
