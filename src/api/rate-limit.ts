/**
 * Requests per minute per API key, for every route that authenticates (all dialects, the native and admin
 * APIs), through `@fastify/rate-limit`. The limit is the key's own `rpm` (none = unlimited); counts are kept
 * per key id in this process's memory or in Redis (`rateLimit.store`), so several API servers can share
 * them. Over the limit answers 429 `RATE_LIMITED` with `Retry-After`, rendered by each dialect's error
 * handler in its own envelope.
 * @module
 */
import rateLimit from '@fastify/rate-limit'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { Redis } from 'ioredis'
import type { RateLimitConfig } from '../config/schema.js'
import { errors } from '../core/errors.js'
import { findCaller } from './auth.js'

const WINDOW_MS = 60_000

function limitOf(request: FastifyRequest): number | null {
  return findCaller(request)?.rpm ?? null
}

/**
 * Registers the limiter on `app` for every route declared after it. Its hook is route-level `onRequest`,
 * which Fastify runs after the scope's own `onRequest` hooks, so the dialect's `authHook` has already
 * named the caller (and a request with a bad key is refused before it is counted).
 */
export async function registerKeyRateLimit(app: FastifyInstance, config: RateLimitConfig): Promise<void> {
  const redis = config.store === 'redis' ? new Redis(config.redisUrl, { maxRetriesPerRequest: 1 }) : undefined
  if (redis !== undefined) {
    // reconnects by itself; without a listener ioredis prints every failed reconnect to stderr
    redis.on('error', () => {})
    app.addHook('onClose', async () => {
      await redis.quit()
    })
  }
  await app.register(rateLimit, {
    global: true,
    hook: 'onRequest',
    timeWindow: WINDOW_MS,
    // Routes without a caller (health, metrics, signed files) and keys without `rpm` are not counted.
    allowList: (request) => limitOf(request) === null,
    keyGenerator: (request) => findCaller(request)?.keyId ?? 'anonymous',
    // while the shared counter store is down requests go uncounted rather than refused: submissions are
    // durable in the records database, and Redis being away must not take the API down with it
    skipOnError: true,
    max: (request) => limitOf(request) ?? 0,
    ...(redis === undefined ? {} : { redis, nameSpace: 'pigment-rpm:' }),
    errorResponseBuilder: (_request, context) => {
      const retryAfterSeconds = Math.max(1, Math.ceil(context.ttl / 1000))
      return errors.RATE_LIMITED(
        `Rate limit reached: this key may make ${context.max} requests per minute; retry in ${retryAfterSeconds} s.`,
        { retryAfterSeconds, details: { rpm: context.max } },
      )
    },
  })
}
