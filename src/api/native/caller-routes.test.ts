import type { IncomingHttpHeaders } from 'node:http'
import type { FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { buildApp } from '../../app.js'
import { errors } from '../../core/errors.js'
import type { Caller } from '../auth.js'
import { fakeDeps } from '../shared/testing/fake-deps.js'

let app: FastifyInstance | undefined

afterEach(async () => {
  await app?.close()
  app = undefined
})

/** `Bearer alice` and `Bearer bob` are users with limits, `Bearer root` an admin, anything else a 401. */
function callers(headers: IncomingHttpHeaders): Caller {
  const token = headers.authorization?.replace(/^Bearer /, '')
  if (token === 'alice') return { keyId: 'alice', role: 'user', remainingCredits: 12.5, rpm: 30 }
  if (token === 'bob') return { keyId: 'bob', role: 'user', remainingCredits: null, rpm: null }
  if (token === 'root') return { keyId: 'root', role: 'admin', remainingCredits: null, rpm: null }
  throw errors.AUTH_UNAUTHORIZED('Missing API key.')
}

async function start(caller?: (headers: IncomingHttpHeaders) => Caller) {
  const deps = fakeDeps(caller === undefined ? {} : { caller })
  deps.worker.autoRun()
  app = await buildApp(deps)
  return deps
}

function get(url: string, key?: string) {
  return app!.inject({ url, headers: key === undefined ? {} : { authorization: `Bearer ${key}` } })
}

async function generate(key: string, prompt: string, n = 1) {
  const response = await app!.inject({
    method: 'POST',
    url: '/api/generations',
    payload: { prompt, n },
    headers: { authorization: `Bearer ${key}` },
  })
  expect(response.statusCode).toBe(200)
  return response.json()
}

describe('GET /api/assets', () => {
  it("pages through the caller's own images, newest first; an admin sees everyone's", async () => {
    await start(callers)
    const first = await generate('alice', 'first', 2)
    const second = await generate('alice', 'second', 1)
    await generate('bob', 'not alice')

    const page1 = await get('/api/assets?limit=2', 'alice')
    expect(page1.statusCode).toBe(200)
    const body1 = page1.json()
    expect(body1.assets).toHaveLength(2)
    expect(body1.assets[0]).toMatchObject({ jobId: second.id, model: 'tiny', format: 'png' })
    expect(body1.assets[0].fileUrl).toMatch(/\/api\/assets\/[0-9a-z]{26}\/file$/)
    expect(body1.nextCursor).toEqual(expect.any(String))
    const body2 = (await get(`/api/assets?limit=2&cursor=${body1.nextCursor}`, 'alice')).json()
    expect(body2.nextCursor).toBeNull()
    const seen = [...body1.assets, ...body2.assets].map((asset: { id: string }) => asset.id).sort()
    const mine = [...first.images, ...second.images].map((image: { assetId: string }) => image.assetId).sort()
    expect(seen).toEqual(mine)

    expect((await get('/api/assets', 'bob')).json().assets).toHaveLength(1)
    expect((await get('/api/assets', 'root')).json().assets).toHaveLength(4)
  })

  it('leaves out expired images, rejects bad paging and answers 401 without a key', async () => {
    const deps = await start(callers)
    const job = await generate('alice', 'old')
    const record = deps.assets.records.get(job.images[0].assetId)!
    deps.assets.records.set(record.id, { ...record, expiresAt: new Date(Date.now() - 1000) })
    expect((await get('/api/assets', 'alice')).json()).toEqual({ assets: [], nextCursor: null })

    const bad = await get('/api/assets?limit=0', 'alice')
    expect(bad.statusCode).toBe(400)
    expect(bad.json().error.message).toContain('limit')
    expect((await get('/api/assets?limit=5&extra=1', 'alice')).statusCode).toBe(400)
    const anonymous = await get('/api/assets')
    expect(anonymous.statusCode).toBe(401)
    expect(anonymous.json().error.code).toBe('AUTH_UNAUTHORIZED')
  })
})

describe('GET /api/me', () => {
  it("shows the calling key's role, credits and rate limit", async () => {
    await start(callers)
    expect((await get('/api/me', 'alice')).json()).toMatchObject({
      auth: true,
      keyId: 'alice',
      role: 'user',
      credits: 12.5,
      rpm: 30,
    })
    expect((await get('/api/me', 'root')).json()).toMatchObject({ auth: true, role: 'admin', credits: null })
    expect((await get('/api/me')).statusCode).toBe(401)
  })

  it('says auth is off when the server runs without keys', async () => {
    await start()
    expect((await get('/api/me')).json()).toEqual({
      auth: false,
      keyId: null,
      name: null,
      role: 'admin',
      credits: null,
      rpm: null,
      concurrency: null,
      expiresAt: null,
    })
  })
})

describe('GET /api/samplers', () => {
  it('lists the sampler and scheduler names a generation accepts', async () => {
    await start()
    const { samplers, schedulers } = (await get('/api/samplers')).json()
    expect(samplers).toContain('euler')
    expect(samplers).toContain('dpmpp_2m')
    expect(schedulers).toContain('karras')
    for (const [sampler, scheduler] of [
      [samplers.at(-1), schedulers.at(-1)],
      ['nope', 'simple'],
    ]) {
      const response = await app!.inject({
        method: 'POST',
        url: '/api/generations',
        payload: { prompt: 'x', sampler, scheduler },
      })
      expect(response.statusCode).toBe(sampler === 'nope' ? 400 : 200)
    }
  })
})
