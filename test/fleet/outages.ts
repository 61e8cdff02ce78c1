/**
 * Stops and starts the machine's Redis and Postgres for the disruptive fleet tests. Other tests share these
 * services, so the tests that use this run alone (`npm run test:fleet`) and always start the service again
 * in `finally`.
 * @module
 */
import { execFileSync, execSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { Redis } from 'ioredis'
import pg from 'pg'
import { TEST_POSTGRES_URL } from '../../src/db/test-databases.js'
import { TEST_REDIS_URL } from '../../src/jobs/bullmq/testing.js'
import { sleep } from './fleet-helpers.js'

export function stopRedis(): void {
  execFileSync('redis-cli', ['shutdown', 'nosave'], { stdio: 'ignore', timeout: 10_000 })
}

export async function startRedis(): Promise<void> {
  execSync(
    'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log',
    { stdio: 'ignore', timeout: 10_000 },
  )
  await until(async () => {
    const client = new Redis(TEST_REDIS_URL, {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    })
    client.on('error', () => {})
    try {
      await client.connect()
      return (await client.ping()) === 'PONG'
    } catch {
      return false
    } finally {
      client.disconnect()
    }
  })
}

function pgCtl(action: 'stop' | 'start'): void {
  const version = readdirSync('/etc/postgresql')[0]
  execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', action], {
    stdio: 'ignore',
    timeout: 60_000,
  })
}

export function stopPostgres(): void {
  pgCtl('stop')
}

export async function startPostgres(): Promise<void> {
  pgCtl('start')
  await until(async () => {
    const client = new pg.Client({ connectionString: TEST_POSTGRES_URL, connectionTimeoutMillis: 1000 })
    client.on('error', () => {})
    try {
      await client.connect()
      await client.query('select 1')
      return true
    } catch {
      return false
    } finally {
      await client.end().catch(() => {})
    }
  })
}

async function until(ready: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await ready())) {
    if (Date.now() > deadline) throw new Error(`service not back after ${timeoutMs} ms`)
    await sleep(100)
  }
}
