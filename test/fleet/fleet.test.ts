import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { LocalFleet } from '../../src/fleet/local-fleet.js'
import { parseEvents } from '../integration/server-harness.js'
import {
  FleetRecords,
  SKIP_REASON,
  s3Keys,
  servicesUp,
  sleep,
  startTestFleet,
  submit,
  submitMany,
} from './fleet-helpers.js'

const JOBS = Number(process.env.PIGMENT_FLEET_JOBS ?? 200)

describe.skipIf(!servicesUp)(servicesUp ? 'fleet: 2 API processes, 3 worker processes' : SKIP_REASON, () => {
  let fleet: LocalFleet
  let records: FleetRecords

  beforeAll(async () => {
    fleet = await startTestFleet(2, 3)
    records = await FleetRecords.open(fleet.databaseUrl)
  }, 420_000)

  afterAll(async () => {
    await records?.close()
    await fleet?.stop()
  })

  it('reports the live workers and their slots per model in /readyz and RunPod /health', async () => {
    const ready = await fetch(`${fleet.urls[1]}/readyz`)
    expect(ready.status).toBe(200)
    const body = (await ready.json()) as {
      checks: { workers: string }
      fleet: { workers: number; models: object }
    }
    expect(body.checks.workers).toBe('ok')
    expect(body.fleet.workers).toBe(3)
    expect(body.fleet.models).toEqual({ 'tiny-sd': { workers: 3, slots: 3, free: 3 } })
    const health = (await (await fetch(`${fleet.urls[0]}/v2/tiny-sd/health`)).json()) as {
      workers: { idle: number; running: number }
    }
    expect(health.workers.idle + health.workers.running).toBe(3)
  })

  it(`runs ${JOBS} jobs submitted through both APIs exactly once, each image in S3`, async () => {
    const started = Date.now()
    const submitted = await submitMany(fleet, JOBS)
    const ids = submitted.map((job) => job.id)
    const rows = await records.waitFinished(ids, 240_000)
    const seconds = (Date.now() - started) / 1000
    console.log(`fleet: ${JOBS} jobs through 2 APIs and 3 workers in ${seconds.toFixed(1)} s`)
    expect(rows.filter((row) => row.state !== 'succeeded')).toEqual([])
    expect(rows.filter((row) => row.attempts !== 1)).toEqual([])
    const assets = await records.assetsOf(ids)
    expect(assets).toHaveLength(JOBS)
    expect(new Set(assets.map((asset) => asset.job_id)).size).toBe(JOBS)
    const stored = new Set(await s3Keys(fleet))
    expect(assets.filter((asset) => !stored.has(asset.key))).toEqual([])
    // both API processes and all three workers took part
    expect(new Set(submitted.map((job) => job.via)).size).toBe(2)
    const workers = new Set(rows.map((row) => row.worker_id?.split('/')[0]))
    expect(workers.size).toBe(3)
  }, 300_000)

  it('streams progress from a worker to an SSE client of the other API, and cancels across processes', async () => {
    const [first, second] = fleet.urls
    const job = await submit(first, { steps: 6 })
    const events = parseEvents(await (await fetch(`${second}/api/jobs/${job.id}/events`)).text())
    const names = events.map((event) => event.event)
    expect(names.at(-1)).toBe('succeeded')
    expect(names.filter((name) => name === 'progress').length).toBeGreaterThanOrEqual(1)
    expect(names).toContain('started')

    const long = await submit(first, { steps: 150, n: 8 })
    const stream = fetch(`${first}/api/jobs/${long.id}/events`).then((response) => response.text())
    await waitUntil(async () => (await records.jobs([long.id]))[0]?.progress !== null, 60_000)
    const cancel = await fetch(`${second}/api/jobs/${long.id}/cancel`, { method: 'POST' })
    expect(cancel.status).toBe(202)
    const [row] = await records.waitFinished([long.id], 60_000)
    expect(row.state).toBe('canceled')
    expect(parseEvents(await stream).at(-1)?.event).toBe('canceled')
    expect(await records.assetsOf([long.id])).toEqual([])
  }, 420_000)

  it('finishes the job of a worker killed with SIGKILL on another worker, once', async () => {
    const body = { steps: 150, n: 8 }
    const jobs = [await submit(fleet.urls[0], body), await submit(fleet.urls[1], body)]
    const ids = jobs.map((job) => job.id)
    // a job that has made progress is mid-run; its worker id names the process (host:pid/slot)
    let victim: { id: string; pid: number } | undefined
    await waitUntil(async () => {
      const running = (await records.jobs(ids)).find(
        (row) => row.state === 'running' && row.progress !== null,
      )
      const pid = Number(running?.worker_id?.split('/')[0].split(':').at(-1))
      if (running !== undefined && Number.isInteger(pid)) victim = { id: running.id, pid }
      return victim !== undefined
    }, 60_000)
    const killed = fleet.workers.find((worker) => worker.pid === victim?.pid)
    expect(killed).toBeDefined()
    await killed?.stop('SIGKILL')
    const rows = await records.waitFinished(ids, 120_000)
    expect(rows.map((row) => row.state)).toEqual(['succeeded', 'succeeded'])
    const retried = rows.find((row) => row.id === victim?.id)
    expect(retried?.attempts).toBe(2)
    expect(retried?.worker_id?.split('/')[0].endsWith(`:${victim?.pid}`)).toBe(false)
    const assets = await records.assetsOf(ids)
    expect(assets).toHaveLength(16)
    const stored = new Set(await s3Keys(fleet))
    expect(assets.filter((asset) => !stored.has(asset.key))).toEqual([])
    // bring the fleet back to three workers for whatever runs next
    await fleet.addWorker()
  }, 240_000)
})

async function waitUntil(condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met in ${timeoutMs} ms`)
    await sleep(50)
  }
}
