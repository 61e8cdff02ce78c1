/**
 * API keys against the real server: keys made by `pigment keys create` (before and while the server runs)
 * and by the admin API, every dialect's header form resolving to the same key, 401 for missing, wrong,
 * expired and revoked keys in each dialect's own shape, 403 for users on every admin operation, 404 for
 * another key's jobs and assets, and no secret in the database file or the logs.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type DatabaseHandle, openDatabase } from '../../src/db/connect.js'
import { KeyStore } from '../../src/keys/key-store.js'
import {
  type Answer,
  basic,
  call,
  createKeyWithCli,
  keyIdOfToken,
  runCli,
  SMALL,
  scenarioPair,
} from './auth-helpers.js'
import { type JobBody, makeTestModel, type ServerProcess, startServer, tempDir } from './server-harness.js'

const OPERATOR_KEY = 'operator-key-7f1c2a9b'
let server: ServerProcess
let base: string
let dataDir: string
let database: DatabaseHandle
const tokens: Record<'root' | 'alice' | 'bob' | 'expired' | 'revoked', string> = {
  root: '',
  alice: '',
  bob: '',
  expired: '',
  revoked: '',
}
const made: string[] = []

const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

// Each `pigment keys` run starts Node and tsx (seconds on a loaded machine): the CLI makes the admin key
// before the server starts and revokes one while it runs; the other keys are written straight to the same
// database file, which is what the CLI does too.
beforeAll(async () => {
  dataDir = tempDir('auth-keys')
  const model = await makeTestModel()
  tokens.root = await createKeyWithCli(dataDir, ['--name', 'root', '--role', 'admin'])
  database = await openDatabase(`sqlite://${join(dataDir, 'pigment.db')}`)
  const keys = new KeyStore(database)
  tokens.alice = (await keys.create({ name: 'alice' })).token
  tokens.expired = (await keys.create({ name: 'short-lived', expiresAt: new Date(Date.now() + 1000) })).token
  server = await startServer(
    ['--data-dir', dataDir, '--model', model, '--workers', '1', '--api-key', OPERATOR_KEY],
    // RunPod's cleanup removes partial downloads from the model cache: keep it away from the real one
    { PIGMENT_MODELS_DIR: tempDir('auth-models') },
  )
  base = server.url
  // made while the server runs: the server reads keys from the shared database on each request
  tokens.bob = (await keys.create({ name: 'bob', role: 'user' })).token
  tokens.revoked = (await keys.create({ name: 'to-revoke' })).token
  const revoked = await runCli(['keys', 'revoke', keyIdOfToken(tokens.revoked), '--data-dir', dataDir])
  expect(revoked.code).toBe(0)
  made.push(...Object.values(tokens))
  while (Date.now() < (await keys.list()).find((k) => k.name === 'short-lived')!.expiresAt!.getTime()) {
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}, 300_000)

afterAll(async () => {
  await server?.stop()
  await database?.close()
})

async function submitAs(token: string): Promise<JobBody> {
  const answer = await call('POST', `${base}/api/generations`, {
    headers: bearer(token),
    json: { prompt: 'a fox', ...SMALL, async: true },
  })
  expect(answer.status).toBe(202)
  return answer.body as JobBody
}

describe('header forms', () => {
  it('every dialect’s header form resolves to the same key', async () => {
    const job = await submitAs(tokens.alice)
    const reads: [string, string, Record<string, string>][] = [
      ['RunPod bare Authorization', `/v2/default/status/${job.id}`, { authorization: tokens.alice }],
      ['Segmind x-api-key', `/v2/requests/${job.id}/status`, { 'x-api-key': tokens.alice }],
      [
        'Scenario Basic key:secret',
        `/scenario/v1/jobs/${job.id}`,
        { authorization: scenarioPair(tokens.alice) },
      ],
      [
        'Scenario Basic with the whole token',
        `/scenario/v1/jobs/${job.id}`,
        { authorization: basic('id', tokens.alice) },
      ],
      ['native Bearer', `/api/jobs/${job.id}`, bearer(tokens.alice)],
    ]
    for (const [name, path, headers] of reads) {
      const answer = await call('GET', `${base}${path}`, { headers })
      expect(answer.status, name).toBe(200)
    }
    expect((await call('GET', `${base}/v1/models`, { headers: bearer(tokens.alice) })).status).toBe(200)
    const chutes = await call('POST', `${base}/generate`, {
      headers: bearer(tokens.alice),
      json: { prompt: 'a fox', width: 64, height: 64, num_inference_steps: 4 },
    })
    expect(chutes.status).toBe(200)
    expect(chutes.headers.get('content-type')).toBe('image/jpeg')
  })

  it('accepts the operator key from the configuration as an admin', async () => {
    const answer = await call('GET', `${base}/api/admin/keys`, { headers: bearer(OPERATOR_KEY) })
    expect(answer.status).toBe(200)
    const names = (answer.body as { keys: { name: string }[] }).keys.map((key) => key.name)
    expect(names).toEqual(expect.arrayContaining(['root', 'alice', 'bob', 'short-lived', 'to-revoke']))
  })
})

/** One cheap request per dialect, and how that dialect shapes a 401. */
const DIALECTS: [string, string, string, (body: unknown) => boolean][] = [
  [
    'native',
    'GET',
    '/api/jobs',
    (b) => (b as { error: { code: string } }).error.code === 'AUTH_UNAUTHORIZED',
  ],
  ['openai', 'GET', '/v1/models', (b) => (b as { error: { code: string } }).error.code === 'invalid_api_key'],
  ['runpod', 'GET', '/v2/default/health', (b) => (b as { status: string }).status === 'error'],
  ['segmind', 'GET', '/v2/requests/abc/status', (b) => typeof (b as { error: unknown }).error === 'string'],
  [
    'scenario',
    'GET',
    '/scenario/v1/jobs',
    (b) => (b as { apiError: string }).apiError === 'AUTH_UNAUTHORIZED',
  ],
  ['chutes', 'POST', '/generate', (b) => typeof (b as { detail: unknown }).detail === 'string'],
]

const messageOf = (answer: Answer) => JSON.stringify(answer.body)

describe('401 for keys that do not open the door, in each dialect’s shape', () => {
  const cases: [string, () => Record<string, string>, RegExp][] = [
    ['no key', () => ({}), /missing/i],
    ['a wrong key', () => bearer(`${tokens.alice.slice(0, -4)}AAAA`), /invalid/i],
    [
      'an unknown well-formed key',
      () => bearer('pk_0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'),
      /invalid/i,
    ],
    ['an expired key', () => bearer(tokens.expired), /expired/i],
    ['a revoked key (revoked by the CLI while the server runs)', () => bearer(tokens.revoked), /revoked/i],
  ]
  for (const [name, headers, message] of cases) {
    it(name, async () => {
      for (const [dialect, method, path, shaped] of DIALECTS) {
        const answer = await call(method, `${base}${path}`, {
          headers: headers(),
          ...(method === 'POST' ? { json: { prompt: 'x' } } : {}),
        })
        expect(answer.status, dialect).toBe(401)
        expect(shaped(answer.body), `${dialect}: ${messageOf(answer)}`).toBe(true)
        expect(messageOf(answer), dialect).toMatch(message)
      }
    })
  }
})

describe('admin operations', () => {
  const runpod = (input: Record<string, unknown>) => ({ input: { prompt: 'x', ...input } })
  const operations: [string, string, string, unknown?][] = [
    ['list keys', 'GET', '/api/admin/keys'],
    ['create a key', 'POST', '/api/admin/keys', { name: 'sneaky', role: 'admin' }],
    ['read a key', 'GET', '/api/admin/keys/0123456789abcdef'],
    ['change a key', 'PATCH', '/api/admin/keys/0123456789abcdef', { role: 'admin' }],
    ['add credits', 'POST', '/api/admin/keys/0123456789abcdef/credits', { add: 5 }],
    ['revoke a key', 'DELETE', '/api/admin/keys/0123456789abcdef'],
    ['warm up a model (native)', 'POST', '/api/models/default/warmup'],
    ['RunPod cleanup', 'POST', '/v2/default/runsync', runpod({ cleanup: true })],
    ['RunPod debug', 'POST', '/v2/default/runsync', runpod({ debug: true })],
    ['RunPod warmup', 'POST', '/v2/default/runsync', runpod({ warmup: true })],
    ['RunPod ComfyUI passthrough', 'POST', '/v2/default/runsync', runpod({ comfy: true, payload: {} })],
    ['RunPod purge-queue', 'POST', '/v2/default/purge-queue'],
  ]

  it.each(operations)('a user key may not %s: 403', async (_name, method, path, json) => {
    const answer = await call(method, `${base}${path}`, {
      headers: bearer(tokens.bob),
      ...(json === undefined ? {} : { json }),
    })
    expect(answer.status).toBe(403)
    expect(messageOf(answer)).toMatch(/admin/i)
  })

  it.each(operations)('an admin key may %s (never 401/403)', async (_name, method, path, json) => {
    const answer = await call(method, `${base}${path}`, {
      headers: bearer(tokens.root),
      ...(json === undefined ? {} : { json }),
    })
    expect([401, 403]).not.toContain(answer.status)
    expect(answer.status).toBeLessThan(500 + (path.includes('runsync') ? 2 : 0))
  })

  it('creates, changes and revokes keys through the admin API; the token works at once and stops at once', async () => {
    const created = await call('POST', `${base}/api/admin/keys`, {
      headers: bearer(tokens.root),
      json: { name: 'api-made', credits: 1.5, rpm: 100, concurrency: 4, expires: '30d' },
    })
    expect(created.status).toBe(201)
    const { key, token } = created.body as { key: { id: string; credits: number }; token: string }
    made.push(token)
    expect(key.credits).toBe(1.5)
    expect((await call('GET', `${base}/api/jobs`, { headers: bearer(token) })).status).toBe(200)
    const changed = await call('PATCH', `${base}/api/admin/keys/${key.id}`, {
      headers: bearer(tokens.root),
      json: { credits: null, name: 'renamed' },
    })
    expect(changed.body).toMatchObject({ name: 'renamed', credits: null, status: 'active' })
    const revoked = await call('DELETE', `${base}/api/admin/keys/${key.id}`, { headers: bearer(tokens.root) })
    expect(revoked.body).toMatchObject({ status: 'revoked' })
    expect((await call('GET', `${base}/api/jobs`, { headers: bearer(token) })).status).toBe(401)
    const listed = await runCli(['keys', 'list', '--data-dir', dataDir])
    expect(listed.stdout).toMatch(new RegExp(`${key.id}\\trenamed\\tuser\\trevoked`))
  }, 120_000)

  it('a body nested 10,000 levels deep is a 400 naming the body on the key routes, not a 500', async () => {
    const deep = `{"name":"x","credits":${'['.repeat(10_000)}${']'.repeat(10_000)}}`
    for (const [method, path] of [
      ['POST', '/api/admin/keys'],
      ['PATCH', `/api/admin/keys/${keyIdOfToken(tokens.alice)}`],
      ['POST', `/api/admin/keys/${keyIdOfToken(tokens.alice)}/credits`],
    ] as const) {
      const response = await fetch(`${base}${path}`, {
        method,
        headers: { ...bearer(tokens.root), 'content-type': 'application/json' },
        body: deep,
      })
      expect({ path, status: response.status }).toEqual({ path, status: 400 })
      expect(await response.json()).toMatchObject({ error: { code: 'VALIDATION_FAILED', field: 'body' } })
    }
  })
})

describe('another key’s jobs and assets are not found', () => {
  it('404 in every dialect for reading or canceling another user’s job or asset; admins see it', async () => {
    const job = await submitAs(tokens.bob)
    const finished = await waitFinished(job.id, tokens.bob)
    const assetId = finished.images[0]?.assetId
    expect(assetId).toBeDefined()
    const alice = bearer(tokens.alice)
    const reads: [string, string, string, Record<string, string>][] = [
      ['native job', 'GET', `/api/jobs/${job.id}`, alice],
      ['native cancel', 'POST', `/api/jobs/${job.id}/cancel`, alice],
      ['native events', 'GET', `/api/jobs/${job.id}/events`, alice],
      ['native asset', 'GET', `/api/assets/${assetId}`, alice],
      ['native asset file', 'GET', `/api/assets/${assetId}/file`, alice],
      ['native asset delete', 'DELETE', `/api/assets/${assetId}`, alice],
      ['RunPod status', 'GET', `/v2/default/status/${job.id}`, { authorization: tokens.alice }],
      ['RunPod cancel', 'POST', `/v2/default/cancel/${job.id}`, { authorization: tokens.alice }],
      ['Segmind status', 'GET', `/v2/requests/${job.id}/status`, { 'x-api-key': tokens.alice }],
      ['Segmind result', 'GET', `/v2/requests/${job.id}`, { 'x-api-key': tokens.alice }],
      ['Scenario job', 'GET', `/scenario/v1/jobs/${job.id}`, { authorization: scenarioPair(tokens.alice) }],
      [
        'Scenario asset',
        'GET',
        `/scenario/v1/assets/${assetId}`,
        { authorization: scenarioPair(tokens.alice) },
      ],
    ]
    for (const [name, method, path, headers] of reads) {
      const answer = await call(method, `${base}${path}`, { headers })
      expect(answer.status, `${name}: ${messageOf(answer)}`).toBe(404)
    }
    const listed = await call('GET', `${base}/api/jobs?limit=100`, { headers: alice })
    expect((listed.body as { jobs: { id: string }[] }).jobs.map((j) => j.id)).not.toContain(job.id)
    expect((await call('GET', `${base}/api/jobs/${job.id}`, { headers: bearer(tokens.root) })).status).toBe(
      200,
    )
    expect((await call('GET', `${base}/api/assets/${assetId}`, { headers: bearer(tokens.bob) })).status).toBe(
      200,
    )
  })
})

async function waitFinished(id: string, token: string): Promise<JobBody> {
  const deadline = Date.now() + 60_000
  for (;;) {
    const answer = await call('GET', `${base}/api/jobs/${id}`, { headers: bearer(token) })
    const job = answer.body as JobBody
    if (['succeeded', 'failed', 'canceled'].includes(job.state)) return job
    if (Date.now() > deadline) throw new Error(`job ${id} still ${job.state}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

describe('secrets at rest', () => {
  it('the database files hold no token and no secret, and the logs name keys only by id', async () => {
    const secrets = made.flatMap((token) => [token, token.slice(token.indexOf('_', 3) + 1)])
    const files = readdirSync(dataDir).filter((name) => name.startsWith('pigment.db'))
    expect(files).toContain('pigment.db')
    const bytes = files.map((name) => readFileSync(join(dataDir, name)).toString('latin1')).join('')
    expect(bytes).toContain(keyIdOfToken(tokens.alice))
    for (const secret of [...secrets, OPERATOR_KEY]) expect(bytes).not.toContain(secret)
    const logs = JSON.stringify(server.logs)
    for (const secret of [...secrets, OPERATOR_KEY]) expect(logs).not.toContain(secret)
  })
})
