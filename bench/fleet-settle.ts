/**
 * `npx tsx bench/fleet-settle.ts`: how long after a fleet worker finishes a job an API process answers
 * the sync request waiting for it, and how long until the job's credit charge is settled (the key's
 * credits and concurrency slot given back). One API process, one worker (the tiny test model), sync
 * requests one at a time through the native API and RunPod's `/runsync`; delays are measured from the
 * record's `finished_at`, written by the worker. Same machine, same clock.
 *
 *   npx tsx bench/fleet-settle.ts [--requests 20 --steps 4]
 * @module
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import pg from 'pg'
import { startLocalFleet } from '../src/fleet/local-fleet.js'
import { writeTestModel } from '../src/pipelines/test-models/write-test-model.js'

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '20' },
    steps: { type: 'string', default: '4' },
    postgres: {
      type: 'string',
      default: process.env.PIGMENT_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    },
    redis: { type: 'string', default: process.env.PIGMENT_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379' },
  },
})
const REQUESTS = Number(values.requests)
const STEPS = Number(values.steps)

interface Sample {
  readonly route: string
  readonly answerMs: number
  readonly settleMs: number
}

const SETTLE_LIMIT_MS = 45_000

/** When the job's charge left `reserved` (epoch ms); polls, since nothing announces it. */
async function settledAt(db: pg.Client, jobId: string): Promise<number> {
  const deadline = Date.now() + SETTLE_LIMIT_MS
  for (;;) {
    const { rows } = await db.query<{ state: string; finished_at: string | null }>(
      'select state, finished_at from credit_charges where job_id = $1',
      [jobId],
    )
    if (rows[0] !== undefined && rows[0].state !== 'reserved') return Number(rows[0].finished_at)
    if (Date.now() > deadline) return Number.NaN
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

async function syncNative(base: string, seed: number): Promise<string> {
  const response = await fetch(`${base}/api/generations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ prompt: 'a red cube', width: 64, height: 64, steps: STEPS, seed }),
  })
  const body = (await response.json()) as { id: string; state: string }
  if (response.status !== 200 || body.state !== 'succeeded')
    throw new Error(`sync: ${response.status} ${JSON.stringify(body)}`)
  return body.id
}

async function syncRunpod(base: string, seed: number): Promise<string> {
  const response = await fetch(`${base}/v2/tiny-sd/runsync`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ input: { prompt: 'a red cube', width: 64, height: 64, steps: STEPS, seed } }),
  })
  const body = (await response.json()) as { id: string; status: string }
  if (response.status !== 200 || body.status !== 'COMPLETED')
    throw new Error(`runsync: ${response.status} ${JSON.stringify(body)}`)
  return body.id
}

const modelRoot = mkdtempSync(join(tmpdir(), 'pigment-bench-settle-'))
const model = join(modelRoot, 'tiny-sd')
await writeTestModel({ family: 'sd', out: model, seed: 7 })
const fleet = await startLocalFleet({
  apis: 1,
  workers: 1,
  models: [model],
  postgresUrl: values.postgres,
  redisUrl: values.redis,
  // readiness is read from the info-level log lines
  env: { PIGMENT_LOG_LEVEL: 'info' },
})
const db = new pg.Client({ connectionString: fleet.databaseUrl })
await db.connect()
const samples: Sample[] = []
try {
  const base = fleet.urls[0]
  // the first job loads the model; it is not part of the measurement
  await syncNative(base, 0)
  for (let i = 1; i <= REQUESTS; i++) {
    for (const [route, send] of [
      ['native', syncNative],
      ['runsync', syncRunpod],
    ] as const) {
      const id = await send(base, i)
      const answeredAt = Date.now()
      const { rows } = await db.query<{ finished_at: string }>('select finished_at from jobs where id = $1', [
        id,
      ])
      const finishedAt = Number(rows[0]?.finished_at)
      const settled = await settledAt(db, id)
      samples.push({ route, answerMs: answeredAt - finishedAt, settleMs: settled - finishedAt })
    }
  }
} finally {
  await db.end()
  await fleet.stop()
  rmSync(modelRoot, { recursive: true, force: true })
}

const quantile = (sorted: readonly number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN
const lines = [`bench:fleet-settle: ${REQUESTS} sync requests per route, 1 API, 1 worker, ${STEPS} steps`]
for (const route of ['native', 'runsync']) {
  for (const [label, field] of [
    ['client answered', 'answerMs'],
    ['charge settled ', 'settleMs'],
  ] as const) {
    const delays = samples
      .filter((s) => s.route === route)
      .map((s) => s[field])
      .sort((a, b) => a - b)
    lines.push(
      `${route.padEnd(8)} worker finished → ${label}: median ${quantile(delays, 0.5)} ms, ` +
        `p90 ${quantile(delays, 0.9)} ms, max ${delays.at(-1)} ms`,
    )
  }
}
process.stdout.write(`${lines.join('\n')}\n`)
process.exit(0)
