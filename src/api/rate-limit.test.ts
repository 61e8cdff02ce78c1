import { randomBytes } from 'node:crypto'
import Fastify, { type FastifyInstance } from 'fastify'
import { Redis } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import type { RateLimitConfig } from '../config/schema.js'
import { authHook, type Caller } from './auth.js'
import { handleError } from './errors.js'
import { registerKeyRateLimit } from './rate-limit.js'

const REDIS_URL = process.env.PIGMENT_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'

async function redisReachable(): Promise<boolean> {
  const client = new Redis(REDIS_URL, { lazyConnect: true, connectTimeout: 1000, maxRetriesPerRequest: 0 })
  try {
    await client.connect()
    return (await client.ping()) === 'PONG'
  } catch {
    return false
  } finally {
    client.disconnect()
  }
}

const apps: FastifyInstance[] = []
afterAll(async () => {
  for (const app of apps) await app.close()
})

/** An app whose callers are named by the `x-caller` header: `<keyId>:<rpm or "none">`. */
async function appWith(config: RateLimitConfig): Promise<FastifyInstance> {
  const app = Fastify({ logger: false })
  app.setErrorHandler((error, request, reply) => {
    handleError(error, request, reply)
  })
  await registerKeyRateLimit(app, config)
  app.get('/open', async () => ({ ok: true }))
  await app.register(async (scope) => {
    scope.addHook(
      'onRequest',
      authHook(async (headers): Promise<Caller> => {
        const [keyId, rpm] = String(headers['x-caller']).split(':')
        return { keyId, role: 'user', remainingCredits: null, rpm: rpm === 'none' ? null : Number(rpm) }
      }),
    )
    scope.get('/work', async () => ({ ok: true }))
  })
  await app.ready()
  apps.push(app)
  return app
}

const hit = (app: FastifyInstance, caller: string) =>
  app.inject({ method: 'GET', url: '/work', headers: { 'x-caller': caller } })

const stores: [string, RateLimitConfig, boolean][] = [
  ['memory', { store: 'memory', redisUrl: '' }, true],
  ['redis', { store: 'redis', redisUrl: REDIS_URL }, await redisReachable()],
]

for (const [name, config, available] of stores) {
  describe.skipIf(!available)(`per-key requests per minute (${name} store)`, () => {
    it('lets a key make its rpm, then answers 429 RATE_LIMITED with Retry-After; other keys are unaffected', async () => {
      const app = await appWith(config)
      const key = randomBytes(6).toString('hex')
      for (let i = 0; i < 2; i++) expect((await hit(app, `${key}:2`)).statusCode).toBe(200)
      const refused = await hit(app, `${key}:2`)
      expect(refused.statusCode).toBe(429)
      expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1)
      expect(refused.json()).toMatchObject({ error: { code: 'RATE_LIMITED' } })
      expect((await hit(app, `${randomBytes(6).toString('hex')}:2`)).statusCode).toBe(200)
    })

    it('does not count keys without rpm or routes without a caller', async () => {
      const app = await appWith(config)
      const key = randomBytes(6).toString('hex')
      for (let i = 0; i < 5; i++) expect((await hit(app, `${key}:none`)).statusCode).toBe(200)
      for (let i = 0; i < 5; i++)
        expect((await app.inject({ method: 'GET', url: '/open' })).statusCode).toBe(200)
    })
  })
}

describe.skipIf(!stores[1][2])('a Redis store shared by two API servers', () => {
  it('counts a key’s requests across both', async () => {
    const [a, b] = [await appWith(stores[1][1]), await appWith(stores[1][1])]
    const key = randomBytes(6).toString('hex')
    expect((await hit(a, `${key}:2`)).statusCode).toBe(200)
    expect((await hit(b, `${key}:2`)).statusCode).toBe(200)
    expect((await hit(a, `${key}:2`)).statusCode).toBe(429)
    expect((await hit(b, `${key}:2`)).statusCode).toBe(429)
  })
})
