/**
 * Shared pieces of the fleet tests: starting the topology with the tiny test model, submitting through the
 * API processes, reading the records straight from the fleet's Postgres database, and listing S3.
 * @module
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3'
import pg from 'pg'
import { postgresReachable, TEST_POSTGRES_URL } from '../../src/db/test-databases.js'
import { type LocalFleet, type LocalFleetOptions, startLocalFleet } from '../../src/fleet/local-fleet.js'
import { redisReachable, TEST_REDIS_URL } from '../../src/jobs/bullmq/testing.js'
import { writeTestModel } from '../../src/pipelines/test-models/write-test-model.js'

export const servicesUp = (await postgresReachable()) && (await redisReachable())
export const SKIP_REASON = 'fleet tests need Postgres and Redis on the machine'

export async function startTestFleet(
  apis: number,
  workers: number,
  extra: Partial<LocalFleetOptions> = {},
): Promise<LocalFleet> {
  const root = mkdtempSync(join(tmpdir(), 'pigment-fleet-model-'))
  const model = join(root, 'tiny-sd')
  await writeTestModel({ family: 'sd', out: model, seed: 7 })
  const removeModel = () => rmSync(root, { recursive: true, force: true })
  const fleet = await startLocalFleet({
    apis,
    workers,
    models: [model],
    postgresUrl: TEST_POSTGRES_URL,
    redisUrl: TEST_REDIS_URL,
    apiArgs: ['--queue-limit', '1000'],
    // a killed worker's job moves on within seconds, not the default 30
    workerArgs: ['--worker-lock', '3s'],
    ...extra,
  }).catch((error: unknown) => {
    removeModel()
    throw error
  })
  return {
    ...fleet,
    async stop() {
      await fleet.stop()
      removeModel()
    },
  }
}

export interface Submitted {
  readonly id: string
  readonly via: string
}

export async function submit(base: string, body: Record<string, unknown>): Promise<Submitted> {
  const response = await fetch(`${base}/api/generations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ prompt: 'a red cube', width: 64, height: 64, steps: 2, async: true, ...body }),
  })
  if (response.status !== 202) throw new Error(`submit: ${response.status} ${await response.text()}`)
  const job = (await response.json()) as { id: string }
  return { id: job.id, via: base }
}

export interface JobRecord {
  readonly id: string
  readonly state: string
  readonly attempts: number
  readonly asset_ids: string
  readonly worker_id: string | null
  readonly progress: string | null
}

export class FleetRecords {
  readonly #client: pg.Client

  private constructor(client: pg.Client) {
    this.#client = client
  }

  static async open(databaseUrl: string): Promise<FleetRecords> {
    const client = new pg.Client({ connectionString: databaseUrl })
    client.on('error', () => {})
    await client.connect()
    return new FleetRecords(client)
  }

  async jobs(ids: readonly string[]): Promise<JobRecord[]> {
    const result = await this.#client.query<JobRecord>(
      'select id, state, attempts, asset_ids, worker_id, progress from jobs where id = any($1)',
      [ids],
    )
    return result.rows
  }

  async assetsOf(ids: readonly string[]): Promise<{ job_id: string; key: string }[]> {
    const result = await this.#client.query<{ job_id: string; key: string }>(
      'select job_id, storage_key as key from assets where job_id = any($1)',
      [ids],
    )
    return result.rows
  }

  /** Polls until every job is finished; bounded by `timeoutMs`. */
  async waitFinished(ids: readonly string[], timeoutMs: number): Promise<JobRecord[]> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const rows = await this.jobs(ids)
      const open = rows.filter((row) => !['succeeded', 'failed', 'canceled', 'expired'].includes(row.state))
      if (rows.length === ids.length && open.length === 0) return rows
      if (Date.now() > deadline) {
        throw new Error(
          `${open.length + ids.length - rows.length} of ${ids.length} jobs unfinished after ${timeoutMs} ms`,
        )
      }
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
  }

  async close(): Promise<void> {
    await this.#client.end().catch(() => {})
  }
}

export async function s3Keys(fleet: LocalFleet): Promise<string[]> {
  const client = new S3Client({
    endpoint: fleet.s3.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  })
  const keys: string[] = []
  let token: string | undefined
  for (let page = 0; page < 100; page++) {
    const listed = await client.send(
      new ListObjectsV2Command({
        Bucket: fleet.s3.bucket,
        ...(token === undefined ? {} : { ContinuationToken: token }),
      }),
    )
    keys.push(...(listed.Contents ?? []).map((item) => item.Key ?? ''))
    token = listed.NextContinuationToken
    if (token === undefined) break
  }
  client.destroy()
  return keys
}

/** Submits `count` jobs spread over every API process, `parallel` at a time. */
export async function submitMany(
  fleet: LocalFleet,
  count: number,
  body: Record<string, unknown> = {},
  parallel = 8,
): Promise<Submitted[]> {
  const submitted: Submitted[] = []
  let next = 0
  const lane = async () => {
    while (next < count) {
      const i = next++
      submitted.push(await submit(fleet.urls[i % fleet.urls.length], { ...body, seed: i }))
    }
  }
  await Promise.all(Array.from({ length: parallel }, lane))
  return submitted
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
