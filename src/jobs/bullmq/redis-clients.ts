/**
 * Redis connections for the fleet. Commands that must not wait out an outage (an enqueue answering an HTTP
 * request) fail fast; BullMQ workers and subscribers retry for ever, and ioredis resubscribes after a
 * reconnect, so a Redis restart heals without anyone restarting Pigment.
 * @module
 */
import { Redis } from 'ioredis'

export type RedisClient = Redis

/** Checks the URL once at startup, so a typo stops the process with a message instead of reconnect noise. */
export function parseRedisUrl(url: string): URL {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new RangeError(`redis URL ${JSON.stringify(url)}: expected redis://host:port[/db]`)
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new RangeError(`redis URL ${JSON.stringify(url)}: expected redis:// or rediss://`)
  }
  return parsed
}

const RETRY = (times: number) => Math.min(2000, 50 * times)

/** For commands on a request path: an outage rejects them at once instead of queueing them. */
export function commandClient(url: string): RedisClient {
  parseRedisUrl(url)
  return new Redis(url, {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    retryStrategy: RETRY,
    lazyConnect: false,
  })
}

/** For BullMQ workers and pub/sub: waits through outages. */
export function durableClient(url: string): RedisClient {
  parseRedisUrl(url)
  return new Redis(url, { maxRetriesPerRequest: null, retryStrategy: RETRY })
}
