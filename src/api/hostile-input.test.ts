/**
 * What a hostile client tries against every dialect at once (issue 16): bodies nested deep enough to blow
 * the stack, router-level errors (bad URL encoding, unknown routes, over-long path parameters) that must
 * answer in the dialect's own shape, and a forged Host header that must not reach the absolute URLs.
 */
import type { FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { buildApp } from '../app.js'
import type { Config } from '../config/schema.js'
import { fakeDeps } from './shared/testing/fake-deps.js'
import { testCatalog } from './testing/dialect-app.js'

let app: FastifyInstance | undefined
afterEach(async () => {
  await app?.close()
  app = undefined
})

async function start(config: Partial<Config> = {}) {
  // The dialect test catalog: the seeds' aliases (chroma, …) and their default sizes.
  const deps = { ...fakeDeps({ config }), models: testCatalog() }
  deps.worker.autoRun()
  app = await buildApp(deps)
  return { app, deps }
}

type Shape = 'native' | 'runpod' | 'segmind' | 'openai' | 'chutes' | 'scenario'

/** Which dialect's error envelope a body is. */
function shapeOf(body: Record<string, unknown>): Shape | 'unknown' {
  const error = body.error as Record<string, unknown> | string | undefined
  if ('apiError' in body || 'reason' in body) return 'scenario'
  if (body.status === 'error' && typeof error === 'string') return 'runpod'
  if (typeof error === 'string') return 'segmind'
  if (typeof error === 'object' && error !== null && 'code' in error && 'message' in error) {
    return 'type' in error && 'param' in error ? 'openai' : 'native'
  }
  if ('detail' in body) return 'chutes'
  return 'unknown'
}

/** Every route that starts a generation, with the shape its errors take. */
const GENERATION_ROUTES: readonly (readonly [string, Shape])[] = [
  ['/api/generations', 'native'],
  ['/v2/chroma/run', 'runpod'],
  ['/v2/chroma/runsync', 'runpod'],
  ['/run', 'runpod'],
  ['/runsync', 'runpod'],
  ['/v1/chroma', 'segmind'],
  ['/v2/chroma', 'segmind'],
  ['/v1/images/generations', 'openai'],
  ['/generate', 'chutes'],
  ['/scenario/v1/generate/txt2img', 'scenario'],
]

function nested(depth: number): string {
  return `{"prompt":"a","x":${'['.repeat(depth)}${']'.repeat(depth)}}`
}

describe('deeply nested JSON', () => {
  it.each(GENERATION_ROUTES)('%s answers 400 in its own shape, naming the body', async (url, shape) => {
    const { app } = await start()
    const response = await app.inject({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/json' },
      payload: nested(10_000),
    })
    expect(response.statusCode).toBe(shape === 'chutes' ? 422 : 400)
    expect(shapeOf(response.json())).toBe(shape)
    expect(response.body).toMatch(/nest/i)
  })

  it('still reads bodies nested within the limit (the route then judges the fields)', async () => {
    const { app } = await start()
    const response = await app.inject({
      method: 'POST',
      url: '/api/generations',
      headers: { 'content-type': 'application/json' },
      payload: nested(20),
    })
    expect(response.statusCode).toBe(400)
    expect(response.json().error.field).toBe('x')
  })
})

describe('router-level errors answer in the dialect of the path', () => {
  const cases: readonly (readonly [string, string, Shape])[] = [
    ['GET', '/v2/default/status/%zz', 'runpod'],
    ['GET', `/v2/default/status/${'a'.repeat(300)}`, 'runpod'],
    ['GET', '/v2/default/nothing-here/x', 'runpod'],
    ['DELETE', '/v2/default/run', 'runpod'],
    ['GET', '/v2/requests/%zz/status', 'segmind'],
    ['GET', `/v1/${'m'.repeat(300)}`, 'segmind'],
    ['GET', '/v1/images/%zz', 'openai'],
    ['GET', '/v1/images/edits', 'openai'],
    ['GET', '/generate/%zz', 'chutes'],
    ['PUT', '/generate', 'chutes'],
    ['GET', '/scenario/v1/jobs/%zz', 'scenario'],
    ['GET', '/scenario/v1/nothing', 'scenario'],
    ['GET', '/api/jobs/%zz', 'native'],
    ['GET', '/nowhere', 'native'],
  ]
  it.each(cases)('%s %s', async (method, url, shape) => {
    const { app } = await start()
    const response = await app.inject({ method: method as 'GET', url })
    expect(response.statusCode).toBeGreaterThanOrEqual(400)
    expect(response.statusCode).toBeLessThan(500)
    expect(shapeOf(response.json())).toBe(shape)
  })
})

describe('absolute URLs never come from the Host header', () => {
  const segmindBody = { prompt: 'a', aspect_ratio: 'custom', width: 768, height: 768 }
  const forged = { host: 'evil.example', 'x-forwarded-host': 'evil2.example', 'x-forwarded-proto': 'https' }

  it('uses the server’s own address when no public base URL is set and proxies are not trusted', async () => {
    const { app } = await start({ host: '127.0.0.1', port: 7999 })
    const native = await app.inject({
      method: 'POST',
      url: '/api/generations',
      headers: forged,
      payload: { prompt: 'a' },
    })
    expect(native.statusCode).toBe(200)
    expect(native.body).not.toMatch(/evil/)
    expect(native.json().images[0].fileUrl).toMatch(/^http:\/\/127\.0\.0\.1:7999\/api\/assets\//)
    const segmind = await app.inject({
      method: 'POST',
      url: '/v2/chroma',
      headers: forged,
      payload: segmindBody,
    })
    expect(segmind.statusCode).toBe(200)
    expect(segmind.body).not.toMatch(/evil/)
    expect(segmind.json().status_url).toMatch(/^http:\/\/127\.0\.0\.1:7999\/v2\/requests\//)
  })

  it('uses --public-base-url when it is set', async () => {
    const { app } = await start({ publicBaseUrl: 'https://images.example.com/' })
    const segmind = await app.inject({
      method: 'POST',
      url: '/v2/chroma',
      headers: forged,
      payload: segmindBody,
    })
    expect(segmind.json().status_url).toMatch(/^https:\/\/images\.example\.com\/v2\/requests\//)
  })

  it('follows X-Forwarded-* only with --trust-proxy', async () => {
    const { app } = await start({ trustProxy: true })
    const native = await app.inject({
      method: 'POST',
      url: '/api/generations',
      headers: { 'x-forwarded-host': 'pigment.example', 'x-forwarded-proto': 'https' },
      payload: { prompt: 'a' },
    })
    expect(native.json().images[0].fileUrl).toMatch(/^https:\/\/pigment\.example\/api\/assets\//)
  })
})
