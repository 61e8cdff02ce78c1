/**
 * Test support for the fleet: whether Redis answers, a unique key prefix per run, and removing every key
 * under that prefix afterwards (other test runs share the same Redis).
 * @module
 */
import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'

export const TEST_REDIS_URL = process.env.PIGMENT_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'

export async function redisReachable(url: string = TEST_REDIS_URL): Promise<boolean> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null })
  client.on('error', () => {})
  try {
    await client.connect()
    return (await client.ping()) === 'PONG'
  } catch {
    return false
  } finally {
    client.disconnect()
  }
}

export function testPrefix(label: string): string {
  return `pigment-test-${label}-${randomBytes(4).toString('hex')}`
}

/** Deletes every key under `prefix:` (bounded: stops after 10,000 SCAN rounds). */
export async function dropPrefix(prefix: string, url: string = TEST_REDIS_URL): Promise<void> {
  const client = new Redis(url, { maxRetriesPerRequest: 1 })
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
