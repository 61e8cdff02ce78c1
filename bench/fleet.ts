/**
 * `npm run bench:fleet`: jobs per second through the fleet (API processes → Postgres records → BullMQ
 * tickets → worker processes → S3 images, events over Redis) with a pipeline that costs nothing, next to
 * raw BullMQ on the same Redis in the same run (add one job per request, as many in-process workers as the
 * fleet has worker processes, a processor that does nothing). Prints both rates and their ratio.
 *
 *   npm run bench:fleet [-- --jobs 300 --apis 2 --workers 3 --steps 4]
 * @module
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { Queue, Worker } from 'bullmq'
import { Redis } from 'ioredis'
import pg from 'pg'
import { startLocalFleet } from '../src/fleet/local-fleet.js'
import { writeTestModel } from '../src/pipelines/test-models/write-test-model.js'

const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '300' },
    apis: { type: 'string', default: '2' },
    workers: { type: 'string', default: '3' },
    steps: { type: 'string', default: '4' },
    concurrency: { type: 'string', default: '16' },
    postgres: {
      type: 'string',
      default: process.env.PIGMENT_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    },
    redis: { type: 'string', default: process.env.PIGMENT_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379' },
  },
})
const JOBS = Number(values.jobs)
const WORKERS = Number(values.workers)
const CONCURRENCY = Number(values.concurrency)
const WORKER_ENTRY = fileURLToPath(new URL('./fleet-no-cost-worker.ts', import.meta.url))

async function measureFleet(): Promise<number> {
  const modelRoot = mkdtempSync(join(tmpdir(), 'pigment-bench-fleet-'))
  const model = join(modelRoot, 'tiny-sd')
  await writeTestModel({ family: 'sd', out: model, seed: 7 })
  const fleet = await startLocalFleet({
    apis: Number(values.apis),
    workers: WORKERS,
    models: [model],
    postgresUrl: values.postgres,
    redisUrl: values.redis,
    workerEntry: WORKER_ENTRY,
    apiArgs: ['--queue-limit', String(JOBS + 100)],
    env: { PIGMENT_LOG_LEVEL: 'info' },
  })
  const db = new pg.Client({ connectionString: fleet.databaseUrl })
  await db.connect()
  try {
    const started = performance.now()
    let next = 0
    const lane = async () => {
      while (next < JOBS) {
        const i = next++
        const response = await fetch(`${fleet.urls[i % fleet.urls.length]}/api/generations`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            prompt: 'x',
            width: 64,
            height: 64,
            steps: Number(values.steps),
            seed: i,
            async: true,
          }),
        })
        if (response.status !== 202) throw new Error(`submit: ${response.status} ${await response.text()}`)
        await response.arrayBuffer()
      }
    }
    await Promise.all(Array.from({ length: CONCURRENCY }, lane))
    const deadline = Date.now() + 600_000
    for (;;) {
      const { rows } = await db.query<{ n: string }>(
        "select count(*) as n from jobs where state = 'succeeded'",
      )
      if (Number(rows[0].n) >= JOBS) break
      if (Date.now() > deadline) throw new Error('fleet did not finish in 10 minutes')
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    return JOBS / ((performance.now() - started) / 1000)
  } finally {
    await db.end()
    await fleet.stop()
    rmSync(modelRoot, { recursive: true, force: true })
  }
}

async function measureRawBullmq(): Promise<number> {
  const prefix = `pigment-bench-raw-${randomBytes(4).toString('hex')}`
  const connection = new Redis(values.redis, { maxRetriesPerRequest: null })
  const queue = new Queue('raw', { connection, prefix })
  let done = 0
  let finish: () => void = () => {}
  const allDone = new Promise<void>((resolve) => {
    finish = resolve
  })
  const workers = Array.from(
    { length: WORKERS },
    () =>
      new Worker(
        'raw',
        async () => {
          done++
          if (done === JOBS) finish()
        },
        { connection: new Redis(values.redis, { maxRetriesPerRequest: null }), prefix, concurrency: 1 },
      ),
  )
  try {
    const started = performance.now()
    let next = 0
    const lane = async () => {
      while (next < JOBS) {
        const i = next++
        await queue.add('job', { i }, { removeOnComplete: true, removeOnFail: true })
      }
    }
    await Promise.all(Array.from({ length: CONCURRENCY }, lane))
    await allDone
    return JOBS / ((performance.now() - started) / 1000)
  } finally {
    await Promise.all(workers.map((worker) => worker.close()))
    await queue.obliterate({ force: true }).catch(() => {})
    await queue.close()
    connection.disconnect()
  }
}

const raw = await measureRawBullmq()
const fleet = await measureFleet()
const line = (label: string, perSecond: number) =>
  `${label.padEnd(44)} ${perSecond.toFixed(1).padStart(8)} jobs/s`
process.stdout.write(
  [
    `bench:fleet: ${JOBS} jobs, ${values.apis} API processes, ${WORKERS} workers, ${values.steps} steps, ${CONCURRENCY} clients`,
    line('raw BullMQ add/process (same Redis)', raw),
    line('Pigment fleet (no-cost pipeline)', fleet),
    `ratio fleet / raw BullMQ: ${(fleet / raw).toFixed(3)}`,
    '',
  ].join('\n'),
)
process.exit(0)
