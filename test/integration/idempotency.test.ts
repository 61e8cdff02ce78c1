/**
 * `Idempotency-Key` against the real server: on every generation route of every dialect a retry with the same
 * key and body gets the first request's job and is not charged again; the same key with another body is
 * refused in the dialect's shape; concurrent duplicates make one job; and after a `kill -9` while a Chutes
 * request waited, the retry on the restarted server gets the image, with the key charged once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Answer, call, SMALL, SMALL_COST } from './auth-helpers.js'
import { makeTestModel, type ServerProcess, startServer, tempDir } from './server-harness.js'

const OPERATOR = { authorization: 'Bearer operator-key-idem-7c21' }
let model: string
let server: ServerProcess
let base: string
let dataDir: string

async function start(extra: readonly string[] = []): Promise<ServerProcess> {
  return startServer([
    ...['--data-dir', dataDir, '--model', model, '--alias', 'chroma=tiny-sd'],
    ...['--workers', '1', '--api-key', OPERATOR.authorization.slice(7)],
    ...extra,
  ])
}

beforeAll(async () => {
  model = await makeTestModel('tiny-sd')
  dataDir = tempDir('idempotency')
  server = await start()
  base = server.url
}, 300_000)

afterAll(async () => {
  await server?.stop('SIGKILL')
})

async function newKey(credits: number): Promise<{ id: string; token: string }> {
  const answer = await call('POST', `${base}/api/admin/keys`, {
    headers: OPERATOR,
    json: { name: 'idem', credits },
  })
  expect(answer.status).toBe(201)
  const { key, token } = answer.body as { key: { id: string }; token: string }
  return { id: key.id, token }
}

async function jobsOf(token: string): Promise<{ id: string; state: string }[]> {
  const answer = await call('GET', `${base}/api/jobs?limit=100`, {
    headers: { authorization: `Bearer ${token}` },
  })
  return (answer.body as { jobs: { id: string; state: string }[] }).jobs
}

async function creditsOf(id: string): Promise<number> {
  return (
    (await call('GET', `${base}/api/admin/keys/${id}`, { headers: OPERATOR })).body as { credits: number }
  ).credits
}

interface Route {
  readonly name: string
  readonly url: string
  readonly headers: (token: string) => Record<string, string>
  readonly body: Record<string, unknown>
  /** What identifies the job in the answer (an id, or the image itself for routes that answer bytes). */
  readonly identity: (answer: Answer) => unknown
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` })
const ROUTES: readonly Route[] = [
  {
    name: 'native',
    url: '/api/generations',
    headers: bearer,
    body: { prompt: 'a fox', ...SMALL },
    identity: (a) => (a.body as { id: string }).id,
  },
  {
    name: 'runpod run',
    url: '/v2/default/run',
    headers: (token) => ({ authorization: token }),
    body: { input: { prompt: 'a fox', ...SMALL } },
    identity: (a) => (a.body as { id: string }).id,
  },
  {
    name: 'runpod runsync',
    url: '/v2/default/runsync',
    headers: (token) => ({ authorization: token }),
    body: { input: { prompt: 'a fox', ...SMALL } },
    identity: (a) => (a.body as { id: string }).id,
  },
  {
    name: 'runpod load-balancer runsync',
    url: '/runsync',
    headers: (token) => ({ authorization: token }),
    body: { prompt: 'a fox', ...SMALL },
    identity: (a) => JSON.stringify(a.body),
  },
  {
    name: 'segmind v1',
    url: '/v1/chroma',
    headers: (token) => ({ 'x-api-key': token }),
    body: { prompt: 'a fox', steps: 10, aspect_ratio: 'custom', width: 768, height: 768, base64: true },
    identity: (a) => (a.body as { image: string }).image,
  },
  {
    name: 'segmind v2',
    url: '/v2/chroma',
    headers: (token) => ({ 'x-api-key': token }),
    body: { prompt: 'a fox', steps: 10, aspect_ratio: 'custom', width: 768, height: 768 },
    identity: (a) => (a.body as { request_id: string }).request_id,
  },
  {
    name: 'openai',
    url: '/v1/images/generations',
    headers: bearer,
    body: { prompt: 'a fox', size: '256x256', response_format: 'b64_json' },
    identity: (a) => (a.body as { data: { b64_json: string }[] }).data[0].b64_json,
  },
  {
    name: 'chutes',
    url: '/generate',
    headers: bearer,
    body: { prompt: 'a fox', width: 64, height: 64, num_inference_steps: 4 },
    identity: (a) => String(a.body),
  },
  {
    name: 'scenario',
    url: '/scenario/v1/generate/txt2img',
    headers: bearer,
    body: { modelId: 'tiny-sd', prompt: 'a fox', width: 64, height: 64, numInferenceSteps: 4 },
    identity: (a) => (a.body as { job: { jobId: string } }).job.jobId,
  },
]

describe('a retry with the same Idempotency-Key', () => {
  it.each(ROUTES)('$name: gets the first job and makes no second one', async (route) => {
    const { token } = await newKey(1000)
    const send = (key: string, body = route.body) =>
      call('POST', `${base}${route.url}`, {
        headers: { ...route.headers(token), 'idempotency-key': key },
        json: body,
      })
    const first = await send('retry-1')
    expect(first.status).toBe(200)
    const again = await send('retry-1')
    expect(again.status).toBe(200)
    expect(route.identity(again)).toEqual(route.identity(first))
    expect(await jobsOf(token)).toHaveLength(1)

    const other = await send('retry-2')
    expect(other.status).toBe(200)
    expect(await jobsOf(token)).toHaveLength(2)

    const input = route.body.input as Record<string, unknown> | undefined
    const changed = await send(
      'retry-1',
      input === undefined
        ? { ...route.body, prompt: 'a different fox' }
        : { input: { ...input, prompt: 'a different fox' } },
    )
    expect(changed.status).toBeGreaterThanOrEqual(400)
    expect(changed.status).toBeLessThan(500)
    expect(JSON.stringify(changed.body)).toMatch(/Idempotency-Key/)
    expect(await jobsOf(token)).toHaveLength(2)
  })

  it('in a dialect’s shape: OpenAI invalid_request_error naming the header, Chutes 422 detail', async () => {
    const { token } = await newKey(1000)
    const headers = { ...bearer(token), 'idempotency-key': 'shape' }
    await call('POST', `${base}/v1/images/generations`, { headers, json: { prompt: 'a', size: '256x256' } })
    const openai = await call('POST', `${base}/v1/images/generations`, {
      headers,
      json: { prompt: 'b', size: '256x256' },
    })
    expect(openai.status).toBe(422)
    expect(openai.body).toMatchObject({ error: { type: 'invalid_request_error', param: 'Idempotency-Key' } })
    const chutes = await call('POST', `${base}/generate`, {
      headers,
      json: { prompt: 'b', width: 64, height: 64, num_inference_steps: 4 },
    })
    expect(chutes.status).toBe(422)
    expect(chutes.body).toHaveProperty('detail')
  })

  it('a malformed key is a 400 naming the header', async () => {
    const { token } = await newKey(1000)
    const answer = await call('POST', `${base}/api/generations`, {
      headers: { ...bearer(token), 'idempotency-key': 'x'.repeat(300) },
      json: { prompt: 'a', ...SMALL },
    })
    expect(answer.status).toBe(400)
    expect(answer.body).toMatchObject({ error: { field: 'Idempotency-Key' } })
  })

  it('is scoped to the API key: another key with the same Idempotency-Key gets its own job', async () => {
    const a = await newKey(1000)
    const b = await newKey(1000)
    const send = (token: string) =>
      call('POST', `${base}/api/generations`, {
        headers: { ...bearer(token), 'idempotency-key': 'shared' },
        json: { prompt: 'a', ...SMALL, async: true },
      })
    const first = (await send(a.token)).body as { id: string }
    const second = (await send(b.token)).body as { id: string }
    expect(second.id).not.toBe(first.id)
  })

  it('concurrent duplicates make one job and one charge', async () => {
    const { id, token } = await newKey(1)
    const answers = await Promise.all(
      Array.from({ length: 8 }, () =>
        call('POST', `${base}/api/generations`, {
          headers: { ...bearer(token), 'idempotency-key': 'burst' },
          json: { prompt: 'a', ...SMALL, async: true },
        }),
      ),
    )
    expect(answers.map((answer) => answer.status)).toEqual(Array(8).fill(202))
    expect(new Set(answers.map((answer) => (answer.body as { id: string }).id)).size).toBe(1)
    expect(await jobsOf(token)).toHaveLength(1)
    const jobId = (answers[0].body as { id: string }).id
    for (let i = 0; i < 600 && (await jobsOf(token))[0].state !== 'succeeded'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    expect((await call('GET', `${base}/api/jobs/${jobId}`, { headers: bearer(token) })).body).toMatchObject({
      state: 'succeeded',
    })
    expect(await creditsOf(id)).toBeCloseTo(1 - SMALL_COST, 6)
  })
})

describe('after a crash', () => {
  it('a Chutes retry with the same key gets the image of the job the dead server accepted, charged once', async () => {
    const { id, token } = await newKey(10)
    // slow enough to still be running when the server is killed
    const body = { prompt: 'a slow fox', width: 512, height: 512, num_inference_steps: 150 }
    const cost = 3.75 // 512·512 / 2^20 · 150 steps / 10
    const headers = { ...bearer(token), 'idempotency-key': 'crash-1' }
    const waiting = call('POST', `${base}/generate`, { headers, json: body }).catch((error: unknown) => error)
    for (let i = 0; i < 600; i++) {
      const [job] = await jobsOf(token)
      if (job?.state === 'running') break
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    expect((await jobsOf(token))[0].state).toBe('running')
    expect(await server.stop('SIGKILL')).toBe('SIGKILL')
    expect(await waiting).toBeInstanceOf(Error)

    server = await start(['--sync-timeout', '300s'])
    base = server.url
    const retry = await call('POST', `${base}/generate`, { headers, json: body })
    expect(retry.status).toBe(200)
    expect(retry.headers.get('content-type')).toBe('image/jpeg')
    expect(await jobsOf(token)).toHaveLength(1)
    for (let i = 0; i < 100 && Math.abs((await creditsOf(id)) - (10 - cost)) > 1e-6; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    expect(await creditsOf(id)).toBeCloseTo(10 - cost, 6)
  }, 300_000)
})
