/**
 * `pigment serve --queue redis://… --workers N`: a job ended by the server's own fleet worker has its credit
 * charge settled before another API process hears that it ended, as with `pigment worker`. The charge's row
 * is locked from outside while the job finishes, so settling waits: the end must not be heard until the lock
 * is let go, and once it is heard the key has its credits and its slot back.
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../config/load.js'
import { type DatabaseHandle, openDatabase } from '../db/connect.js'
import { postgresReachable, TEST_POSTGRES_URL } from '../db/test-databases.js'
import { type BullmqQueue, openBullmqQueue } from '../jobs/bullmq/bullmq-queue.js'
import { dropPrefix, redisReachable, TEST_REDIS_URL, testPrefix } from '../jobs/bullmq/testing.js'
import { sampleRequest } from '../jobs/test-requests.js'
import { writeTestModel } from '../pipelines/test-models/write-test-model.js'
import { FakePipeline } from '../worker/fake-pipeline.js'
import { type ComposedServer, composeServer } from './compose.js'

const available = (await postgresReachable()) && (await redisReachable())
const title = available
  ? 'serve --queue with in-process workers'
  : 'serve --queue with in-process workers (skipped: needs Postgres and Redis on the machine)'

const CREDITS_MILLI = 1_000_000

describe.skipIf(!available)(title, () => {
  const schema = `pigment_test_${randomBytes(6).toString('hex')}`
  const prefix = testPrefix('compose')
  const dataDir = mkdtempSync(join(tmpdir(), 'pigment-compose-fleet-'))
  const pipeline = new FakePipeline('held', { pauseAtStep: 1 })
  let admin: pg.Client
  let server: ComposedServer | undefined
  let otherApi: BullmqQueue | undefined
  let otherHandle: DatabaseHandle | undefined

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: TEST_POSTGRES_URL })
    await admin.connect()
    await admin.query(`create schema ${schema}`)
    const separator = TEST_POSTGRES_URL.includes('?') ? '&' : '?'
    const databaseUrl = `${TEST_POSTGRES_URL}${separator}options=${encodeURIComponent(`-c search_path=${schema}`)}`
    const model = join(dataDir, 'tiny-sd')
    await writeTestModel({ family: 'sd', out: model, seed: 1 })
    // the fleet checks of the loader (S3 for images) concern other machines; this test is one process
    const config = {
      ...loadConfig({
        flags: { dataDir, models: [model], workers: '1', port: '0', logLevel: 'silent' },
      }),
      queueUrl: TEST_REDIS_URL,
      fleetPrefix: prefix,
      databaseUrl,
    }
    server = await composeServer(config, { loadPipeline: async () => pipeline })
    await server.listen()
    otherHandle = await openDatabase(databaseUrl)
    // no polling: the event relayed through Redis is the only way this process can hear the end
    otherApi = await openBullmqQueue(otherHandle, { redisUrl: TEST_REDIS_URL, prefix, finishPollMs: 600_000 })
  })

  afterAll(async () => {
    try {
      // a failed run may still hold the lock, and the worker's settling (so its shutdown) waits for it
      await admin?.query('rollback').catch(() => {})
      pipeline.release()
      await server?.shutdown(0)
      await otherApi?.close()
      await otherHandle?.close()
    } finally {
      // a schema left behind with Kysely's migration tables in it breaks every later test schema's migration
      await admin?.query(`drop schema if exists ${schema} cascade`)
      await admin?.end()
      await dropPrefix(prefix)
      rmSync(dataDir, { recursive: true, force: true })
    }
  })

  it('announces the end of a job its own worker ran only once the charge is settled', async () => {
    const { key } = await server!.deps.accounts!.keys.create({
      name: 'one-at-a-time',
      concurrency: 1,
      creditsMilli: CREDITS_MILLI,
    })
    const job = await server!.queue.enqueue(
      sampleRequest({ origin: { keyId: key.id, source: 'native' }, steps: 2 }),
    )
    const heard: string[] = []
    otherApi!.subscribe(job.id, (event) => heard.push(event.type))
    await pipeline.paused()

    await admin.query('begin')
    await admin.query(`select id from ${schema}.credit_charges where job_id = $1 for update`, [job.id])
    pipeline.release()
    await waitFor(async () => (await otherApi!.get(job.id))?.state === 'succeeded')
    // the worker has written the end; give a premature announcement time to arrive
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(heard).toContain('started')
    expect(heard).not.toContain('succeeded')

    await admin.query('commit')
    await waitFor(async () => heard.includes('succeeded'))
    const { rows } = await admin.query<{ state: string; active_jobs: number; credits_milli: number }>(
      `select c.state, k.active_jobs, k.credits_milli
         from ${schema}.credit_charges c join ${schema}.api_keys k on k.id = c.key_id
        where c.job_id = $1`,
      [job.id],
    )
    expect(rows[0]).toMatchObject({ state: 'settled', active_jobs: 0 })
    expect(Number(rows[0].credits_milli)).toBeLessThan(CREDITS_MILLI)
  })
})

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}
