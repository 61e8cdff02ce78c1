/**
 * The fleet topology as plain processes on one machine: an S3 server (s3rver) on loopback, N API
 * processes (`pigment serve --queue redis://…`) and M worker processes (`pigment worker`), sharing a fresh
 * Postgres database and one Redis key prefix. For the fleet tests, the fleet benchmark and for trying the
 * topology (`scripts/fleet.ts`). `stop()` ends every process, then drops the database and the Redis keys.
 * @module
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import pg from 'pg'
import S3rver from 's3rver'
import { type FleetProcess, spawnFleetProcess } from './fleet-process.js'

export interface LocalFleetOptions {
  readonly apis: number
  readonly workers: number
  /** Model folders (or registry names) every process serves. */
  readonly models: readonly string[]
  /** An existing database to connect to; a fresh `pigment_fleet_<random>` database is made beside it. */
  readonly postgresUrl: string
  readonly redisUrl: string
  /** Extra arguments per role. */
  readonly apiArgs?: readonly string[]
  readonly workerArgs?: readonly string[]
  /** Script to run instead of the pigment command (benchmarks: a worker with a no-cost pipeline). */
  readonly workerEntry?: string
  readonly env?: NodeJS.ProcessEnv
  /** Keep the database and Redis keys after stop (to inspect a run). */
  readonly keep?: boolean
}

export interface LocalFleet {
  readonly apis: FleetProcess[]
  readonly workers: FleetProcess[]
  /** API base URLs, in the order of `apis`. */
  readonly urls: string[]
  readonly databaseUrl: string
  readonly prefix: string
  readonly s3: { readonly endpoint: string; readonly bucket: string; readonly directory: string }
  /** Starts one more worker process, with `args` after the shared ones (e.g. its own metrics port). */
  addWorker(args?: readonly string[]): Promise<FleetProcess>
  stop(): Promise<void>
}

const BUCKET = 'pigment-fleet'
const LISTENING = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/
const WORKING = /pigment worker is taking jobs/

async function admin(postgresUrl: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: postgresUrl })
  await client.connect()
  try {
    await client.query(statement)
  } finally {
    await client.end()
  }
}

function databaseBeside(postgresUrl: string, name: string): string {
  const url = new URL(postgresUrl)
  url.pathname = `/${name}`
  return url.toString()
}

export async function startLocalFleet(options: LocalFleetOptions): Promise<LocalFleet> {
  const id = randomBytes(4).toString('hex')
  const prefix = `pigment-fleet-${id}`
  const databaseName = `pigment_fleet_${id}`
  const directory = mkdtempSync(join(tmpdir(), 'pigment-fleet-s3-'))
  const s3rver = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: BUCKET }],
  })
  const address = await s3rver.run()
  const endpoint = `http://127.0.0.1:${address.port}`
  await admin(options.postgresUrl, `create database ${databaseName}`)
  const databaseUrl = databaseBeside(options.postgresUrl, databaseName)
  const dataDir = mkdtempSync(join(tmpdir(), 'pigment-fleet-data-'))

  const shared = [
    '--queue',
    options.redisUrl,
    '--fleet-prefix',
    prefix,
    '--database-url',
    databaseUrl,
    '--storage',
    's3',
    '--s3-bucket',
    BUCKET,
    '--s3-endpoint',
    endpoint,
    '--s3-force-path-style',
    ...options.models.flatMap((model) => ['--model', model]),
  ]
  const env: NodeJS.ProcessEnv = {
    // s3rver's fixed development credentials
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    AWS_REGION: 'us-east-1',
    PIGMENT_LOG_LEVEL: 'info',
    ...options.env,
  }
  const apis: FleetProcess[] = []
  const workers: FleetProcess[] = []
  const urls: string[] = []
  let workerCount = 0

  const addWorker = async (args: readonly string[] = []): Promise<FleetProcess> => {
    const name = `worker-${++workerCount}`
    const { process: child } = await spawnFleetProcess({
      name,
      args: ['worker', ...shared, ...(options.workerArgs ?? []), ...args],
      env,
      ready: WORKING,
      ...(options.workerEntry === undefined ? {} : { entry: options.workerEntry }),
    })
    workers.push(child)
    return child
  }

  const stop = async (): Promise<void> => {
    await Promise.all([...apis, ...workers].map((child) => child.stop('SIGKILL')))
    await s3rver.close().catch(() => {})
    rmSync(directory, { recursive: true, force: true })
    rmSync(dataDir, { recursive: true, force: true })
    if (options.keep === true) return
    await admin(options.postgresUrl, `drop database if exists ${databaseName} with (force)`).catch(() => {})
    await dropRedisPrefix(options.redisUrl, prefix).catch(() => {})
  }

  try {
    const starting: Promise<unknown>[] = []
    for (let i = 0; i < options.apis; i++) {
      const args = [
        'serve',
        ...shared,
        '--host',
        '127.0.0.1',
        '--port',
        '0',
        '--data-dir',
        join(dataDir, `api-${i}`),
      ]
      starting.push(
        spawnFleetProcess({
          name: `api-${i + 1}`,
          args: [...args, ...(options.apiArgs ?? [])],
          env,
          ready: LISTENING,
        }).then(({ process: child, match }) => {
          apis[i] = child
          urls[i] = match
        }),
      )
      // the first API process migrates the new database; the others would race it
      if (i === 0) await starting[0]
    }
    for (let i = 0; i < options.workers; i++) starting.push(addWorker())
    await Promise.all(starting)
  } catch (error) {
    await stop()
    throw error
  }

  return {
    apis,
    workers,
    urls,
    databaseUrl,
    prefix,
    s3: { endpoint, bucket: BUCKET, directory },
    addWorker,
    stop,
  }
}

async function dropRedisPrefix(redisUrl: string, prefix: string): Promise<void> {
  const client = new Redis(redisUrl, { maxRetriesPerRequest: 1 })
  client.on('error', () => {})
  try {
    let cursor = '0'
    for (let round = 0; round < 10_000; round++) {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500)
      if (keys.length > 0) await client.del(...keys)
      cursor = next
      if (cursor === '0') break
    }
  } finally {
    client.disconnect()
  }
}
