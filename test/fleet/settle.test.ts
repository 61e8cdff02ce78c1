/**
 * A job's end as API processes see it when a worker process ran it: the sync answer comes as soon as the
 * worker finishes, with the record final and the key's charge settled (so a key limited to one job at a
 * time can send the next request at once); a worker whose lease was taken over settles nothing; and each
 * worker process serves its own Prometheus metrics.
 */
import { createServer } from 'node:net'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDatabase } from '../../src/db/connect.js'
import type { LocalFleet } from '../../src/fleet/local-fleet.js'
import { KeyStore } from '../../src/keys/key-store.js'
import { FleetRecords, SKIP_REASON, servicesUp, sleep, startTestFleet } from './fleet-helpers.js'

const SYNC_REQUESTS = 6
const CREDITS = 1000

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}

/** Sums every series of a metric whose labels include `labels` (e.g. `state="succeeded"`). */
function sumOf(text: string, name: string, labels = ''): number {
  let sum = 0
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue
    if (labels !== '' && !line.includes(labels)) continue
    sum += Number(line.slice(line.lastIndexOf(' ') + 1))
  }
  return sum
}

interface Charge {
  readonly state: string
  readonly finished_at: string | null
}

describe.skipIf(!servicesUp)(servicesUp ? 'fleet: a job ended by a worker process' : SKIP_REASON, () => {
  let fleet: LocalFleet
  let records: FleetRecords
  let db: pg.Client
  let token = ''
  let keyId = ''
  const metricsPorts: number[] = []

  beforeAll(async () => {
    fleet = await startTestFleet(1, 0)
    for (let i = 0; i < 2; i++) {
      const port = await freePort()
      metricsPorts.push(port)
      await fleet.addWorker(['--metrics-port', String(port)])
    }
    records = await FleetRecords.open(fleet.databaseUrl)
    db = new pg.Client({ connectionString: fleet.databaseUrl })
    await db.connect()
    const handle = await openDatabase(fleet.databaseUrl)
    try {
      const made = await new KeyStore(handle).create({
        name: 'one-at-a-time',
        concurrency: 1,
        creditsMilli: CREDITS * 1000,
      })
      token = made.token
      keyId = made.key.id
    } finally {
      await handle.close()
    }
    // the API re-reads whether keys exist at most once a second
    await sleep(1200)
  }, 420_000)

  afterAll(async () => {
    await db?.end()
    await records?.close()
    await fleet?.stop()
  })

  const headers = () => ({ 'content-type': 'application/json', authorization: `Bearer ${token}` })

  async function chargeOf(jobId: string): Promise<Charge | undefined> {
    const { rows } = await db.query<Charge>(
      'select state, finished_at from credit_charges where job_id = $1',
      [jobId],
    )
    return rows[0]
  }

  it('answers a sync request as soon as the worker finishes, the record final and the charge settled', async () => {
    const base = fleet.urls[0]
    const delays: number[] = []
    for (let i = 0; i < SYNC_REQUESTS; i++) {
      const native = i % 2 === 0
      // back to back with a key allowed one job at a time: a charge still held would answer 429
      const response = native
        ? await fetch(`${base}/api/generations`, {
            method: 'POST',
            headers: headers(),
            body: JSON.stringify({ prompt: 'a red cube', width: 64, height: 64, steps: 4, seed: i }),
          })
        : await fetch(`${base}/v2/tiny-sd/runsync`, {
            method: 'POST',
            headers: headers(),
            body: JSON.stringify({
              input: { prompt: 'a red cube', width: 64, height: 64, steps: 4, seed: i },
            }),
          })
      const answeredAt = Date.now()
      const body = (await response.json()) as { id: string; state?: string; status?: string }
      expect(response.status, JSON.stringify(body)).toBe(200)
      expect(native ? body.state : body.status).toBe(native ? 'succeeded' : 'COMPLETED')
      const [row] = await records.jobs([body.id])
      expect(row.state).toBe('succeeded')
      const { rows } = await db.query<{ finished_at: string }>('select finished_at from jobs where id = $1', [
        body.id,
      ])
      const delay = answeredAt - Number(rows[0].finished_at)
      delays.push(delay)
      expect(delay).toBeLessThan(2000)
      // settled before the end was announced, not by the API's sweep up to 30 s later
      const charge = await chargeOf(body.id)
      expect(charge?.state).toBe('settled')
      expect(Number(charge?.finished_at)).toBeLessThanOrEqual(answeredAt)
    }
    console.log(`fleet: worker finished → sync answer: ${delays.join(', ')} ms`)
  }, 120_000)

  it('serves Prometheus metrics on each worker process: jobs, durations, waits, model loads', async () => {
    const scrapes = await Promise.all(
      metricsPorts.map(async (port) => {
        const response = await fetch(`http://127.0.0.1:${port}/metrics`)
        expect(response.status).toBe(200)
        return response.text()
      }),
    )
    const total = (name: string, labels = '') =>
      scrapes.reduce((sum, text) => sum + sumOf(text, name, labels), 0)
    expect(total('pigment_jobs_finished_total', 'state="succeeded"')).toBe(SYNC_REQUESTS)
    expect(total('pigment_images_generated_total', 'model="tiny-sd"')).toBe(SYNC_REQUESTS)
    expect(total('pigment_job_duration_seconds_count', 'outcome="succeeded"')).toBe(SYNC_REQUESTS)
    expect(total('pigment_job_queue_wait_seconds_count')).toBe(SYNC_REQUESTS)
    for (const text of scrapes) {
      const ran = sumOf(text, 'pigment_jobs_finished_total') > 0
      // a worker loads its model on its first job and keeps it
      expect(sumOf(text, 'pigment_model_load_seconds_count', 'model="tiny-sd"')).toBe(ran ? 1 : 0)
      expect(sumOf(text, 'pigment_model_loaded', 'model="tiny-sd"')).toBe(ran ? 1 : 0)
      expect(sumOf(text, 'pigment_worker_slots', 'state="free"')).toBe(1)
    }
  })

  it('lets a worker whose lease was taken over neither finish the job nor settle its charge', async () => {
    const submitted = await fetch(`${fleet.urls[0]}/api/generations`, {
      method: 'POST',
      headers: headers(),
      body: JSON.stringify({ prompt: 'a blue cube', width: 64, height: 64, steps: 150, n: 8, async: true }),
    })
    expect(submitted.status).toBe(202)
    const { id } = (await submitted.json()) as { id: string }
    let first = ''
    await waitUntil(async () => {
      const [row] = await records.jobs([id])
      first = row.state === 'running' && row.progress !== null ? (row.worker_id ?? '') : ''
      return first !== ''
    }, 60_000)
    const pid = Number(first.split('/')[0].split(':').at(-1))
    const stale = fleet.workers.find((worker) => worker.pid === pid)
    expect(stale).toBeDefined()
    // frozen, not dead: past the worker lock (3 s) the other worker takes the job over under a new lease
    stale?.child.kill('SIGSTOP')
    try {
      await waitUntil(async () => (await records.jobs([id]))[0].attempts === 2, 60_000)
    } finally {
      stale?.child.kill('SIGCONT')
    }
    const [row] = await records.waitFinished([id], 120_000)
    expect(row).toMatchObject({ state: 'succeeded', attempts: 2 })
    expect(row.worker_id?.split('/')[0].endsWith(`:${pid}`)).toBe(false)
    expect(await records.assetsOf([id])).toHaveLength(8)
    // the thawed worker finds its lease gone at its next write and drops the run
    await waitUntil(
      async () =>
        stale?.logs.some((line) => line.msg === 'lost the lease on a running job; dropping it') ?? false,
      30_000,
    )
    const charge = await chargeOf(id)
    expect(charge?.state).toBe('settled')
    const { rows: ledger } = await db.query<{ kind: string }>(
      'select l.kind from credit_ledger l join credit_charges c on c.id = l.charge_id where c.job_id = $1 order by l.kind',
      [id],
    )
    expect(ledger.map((entry) => entry.kind)).toEqual(['reserve', 'settle'])
    const { rows: keys } = await db.query<{ active_jobs: number }>(
      'select active_jobs from api_keys where id = $1',
      [keyId],
    )
    expect(Number(keys[0].active_jobs)).toBe(0)
  }, 240_000)
})

async function waitUntil(condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met in ${timeoutMs} ms`)
    await sleep(50)
  }
}
