/**
 * Starts the fleet topology on this machine as plain processes: an S3 server on loopback, N API processes
 * and M worker processes over the machine's Postgres and Redis, then waits for Ctrl-C and removes what it
 * made (the database it created, the Redis keys, the S3 folder).
 *
 *   npx tsx scripts/fleet.ts --apis 2 --workers 3 --model ./tiny-sd
 *   npx tsx scripts/fleet.ts --test-model            # writes a tiny random-weight SD model first
 * @module
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { startLocalFleet } from '../src/fleet/local-fleet.js'
import { writeTestModel } from '../src/pipelines/test-models/write-test-model.js'

const { values } = parseArgs({
  options: {
    apis: { type: 'string', default: '2' },
    workers: { type: 'string', default: '3' },
    model: { type: 'string', multiple: true, default: [] },
    'test-model': { type: 'boolean', default: false },
    postgres: {
      type: 'string',
      default: process.env.PIGMENT_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    },
    redis: { type: 'string', default: process.env.PIGMENT_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379' },
  },
})

const models = [...values.model]
let madeModel: string | undefined
if (values['test-model'] || models.length === 0) {
  madeModel = mkdtempSync(join(tmpdir(), 'pigment-fleet-model-'))
  await writeTestModel({ family: 'sd', out: join(madeModel, 'tiny-sd'), seed: 7 })
  models.push(join(madeModel, 'tiny-sd'))
}

const fleet = await startLocalFleet({
  apis: Number(values.apis),
  workers: Number(values.workers),
  models,
  postgresUrl: values.postgres,
  redisUrl: values.redis,
})
process.stdout.write(
  [
    `fleet ${fleet.prefix} is up`,
    ...fleet.urls.map((url, i) => `  api ${i + 1}: ${url}`),
    ...fleet.workers.map((worker) => `  ${worker.name}: pid ${worker.pid}`),
    `  s3: ${fleet.s3.endpoint} bucket ${fleet.s3.bucket}`,
    `  database: ${fleet.databaseUrl}`,
    'Ctrl-C stops it.',
    '',
  ].join('\n'),
)
const stop = () => {
  fleet.stop().then(
    () => {
      if (madeModel !== undefined) rmSync(madeModel, { recursive: true, force: true })
      process.exit(0)
    },
    () => process.exit(1),
  )
}
process.once('SIGINT', stop)
process.once('SIGTERM', stop)
