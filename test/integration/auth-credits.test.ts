/**
 * Credits and limits against the real server: the credit race (50 concurrent generations on a key with
 * credits for exactly 10), refunds after failures and cancels reconciled exactly with the ledger in the
 * database file, "insufficient credits" in every dialect's shape, per-key concurrency and requests per
 * minute as 429 with Retry-After, and usage per key.
 */
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import SqliteDatabase from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Answer, call, SMALL, SMALL_COST } from './auth-helpers.js'
import { type JobBody, makeTestModel, type ServerProcess, startServer, tempDir } from './server-harness.js'

const OPERATOR = { authorization: 'Bearer operator-key-2b8e41c0' }
let server: ServerProcess
let base: string
let dataDir: string

beforeAll(async () => {
  dataDir = tempDir('auth-credits')
  const good = await makeTestModel('tiny-sd')
  // A folder that passes the startup check but whose denoiser cannot load: its jobs fail.
  const broken = await makeTestModel('broken-sd')
  await writeFile(join(broken, 'unet', 'model.onnx'), 'not an onnx graph')
  server = await startServer([
    ...['--data-dir', dataDir, '--model', good, '--model', broken, '--default-model', 'tiny-sd'],
    ...['--workers', '1', '--max-attempts', '1', '--api-key', OPERATOR.authorization.slice(7)],
  ])
  base = server.url
}, 300_000)

afterAll(async () => {
  await server?.stop()
})

interface KeyView {
  readonly id: string
  readonly credits: number | null
}

async function newKey(
  body: Record<string, unknown>,
): Promise<{ key: KeyView; headers: Record<string, string> }> {
  const answer = await call('POST', `${base}/api/admin/keys`, {
    headers: OPERATOR,
    json: { name: 'k', ...body },
  })
  expect(answer.status).toBe(201)
  const { key, token } = answer.body as { key: KeyView; token: string }
  return { key, headers: { authorization: `Bearer ${token}` } }
}

const generate = (headers: Record<string, string>, extra: Record<string, unknown> = {}) =>
  call('POST', `${base}/api/generations`, {
    headers,
    json: { prompt: 'a fox', ...SMALL, async: true, ...extra },
  })

/** The key's records as the database file holds them (read-only, beside the running server). */
function ledgerOf(keyId: string) {
  const db = new SqliteDatabase(join(dataDir, 'pigment.db'), { readonly: true, fileMustExist: true })
  try {
    const key = db.prepare('select credits_milli, active_jobs from api_keys where id = ?').get(keyId) as {
      credits_milli: number | null
      active_jobs: number
    }
    const { total } = db
      .prepare('select coalesce(sum(amount_milli), 0) as total from credit_ledger where key_id = ?')
      .get(keyId) as { total: number }
    const reserved = db
      .prepare("select count(*) as n from credit_charges where key_id = ? and state = 'reserved'")
      .get(keyId) as { n: number }
    return {
      balanceMilli: key.credits_milli,
      activeJobs: key.active_jobs,
      ledgerMilli: total,
      reserved: reserved.n,
    }
  } finally {
    db.close()
  }
}

/** Waits until every charge of the key is settled (settlement follows the job's final transition). */
async function settled(keyId: string) {
  const deadline = Date.now() + 60_000
  for (;;) {
    const state = ledgerOf(keyId)
    if (state.reserved === 0) return state
    if (Date.now() > deadline) throw new Error(`${state.reserved} charges of ${keyId} still reserved`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

async function finalJob(id: string, headers: Record<string, string>): Promise<JobBody> {
  const deadline = Date.now() + 120_000
  for (;;) {
    const job = (await call('GET', `${base}/api/jobs/${id}`, { headers })).body as JobBody
    if (['succeeded', 'failed', 'canceled'].includes(job.state)) return job
    if (Date.now() > deadline) throw new Error(`job ${id} still ${job.state}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

describe('the credit race', () => {
  it('50 concurrent generations on credits for exactly 10: 10 accepted, never negative, refunds reconciled', async () => {
    const { key, headers } = await newKey({ credits: 10 * SMALL_COST })
    const samples: number[] = []
    let racing = true
    const sampler = (async () => {
      while (racing) {
        const view = (await call('GET', `${base}/api/admin/keys/${key.id}`, { headers: OPERATOR }))
          .body as KeyView
        samples.push(view.credits ?? Number.NaN)
      }
    })()
    const answers = await Promise.all(Array.from({ length: 50 }, () => generate(headers)))
    const accepted = answers.filter((a) => a.status === 202).map((a) => a.body as JobBody)
    const refused = answers.filter((a) => a.status !== 202)
    expect(accepted).toHaveLength(10)
    expect(refused).toHaveLength(40)
    for (const answer of refused) {
      expect(answer.status).toBe(402)
      expect(answer.body).toMatchObject({ error: { code: 'CREDITS_INSUFFICIENT' } })
    }
    // cancel the last four (queued behind one worker, or stopped at their next step)
    const toCancel = accepted
      .map((job) => job.id)
      .sort()
      .slice(-4)
    for (const id of toCancel) {
      expect([200, 202, 409]).toContain(
        (await call('POST', `${base}/api/jobs/${id}/cancel`, { headers })).status,
      )
    }
    const finals = await Promise.all(accepted.map((job) => finalJob(job.id, headers)))
    racing = false
    await sampler
    const succeeded = finals.filter((job) => job.state === 'succeeded').length
    expect(finals.filter((job) => job.state === 'canceled').length).toBeGreaterThanOrEqual(1)

    const state = await settled(key.id)
    expect(samples.length).toBeGreaterThan(0)
    expect(samples.every((credits) => credits >= 0)).toBe(true)
    expect(state.balanceMilli).toBe((10 - succeeded) * SMALL_COST * 1000)
    expect(state.ledgerMilli).toBe(state.balanceMilli)
    expect(state.activeJobs).toBe(0)
    const view = (await call('GET', `${base}/api/admin/keys/${key.id}`, { headers: OPERATOR }))
      .body as KeyView
    expect(view.credits).toBeCloseTo((10 - succeeded) * SMALL_COST, 6)

    const usage = await call('GET', `${base}/api/usage`, { headers })
    expect(usage.body).toMatchObject({
      keys: [{ keyId: key.id, jobs: 10, succeeded, canceled: 10 - succeeded, failed: 0, images: succeeded }],
    })
    const { keys } = usage.body as { keys: { credits: number; megapixelSteps: number }[] }
    expect(keys[0].credits).toBeCloseTo(succeeded * SMALL_COST, 6)
    expect(keys[0].megapixelSteps).toBeCloseTo((succeeded * 64 * 64 * 4) / 2 ** 20, 3)
  }, 240_000)

  it('failed jobs give their credits back in full', async () => {
    const { key, headers } = await newKey({ credits: 2 * SMALL_COST })
    const jobs = [
      await generate(headers, { model: 'broken-sd' }),
      await generate(headers, { model: 'broken-sd' }),
    ]
    expect(jobs.map((a) => a.status)).toEqual([202, 202])
    // (no 402 probe here: a broken model fails in milliseconds, so the refund can come before the probe; the
    // reservation at submission is the credit race's subject above)
    const finals = await Promise.all(jobs.map((a) => finalJob((a.body as JobBody).id, headers)))
    expect(finals.map((job) => job.state)).toEqual(['failed', 'failed'])
    const state = await settled(key.id)
    expect(state.balanceMilli).toBe(2 * SMALL_COST * 1000)
    expect(state.ledgerMilli).toBe(state.balanceMilli)
    const usage = await call('GET', `${base}/api/usage?keyId=${key.id}`, { headers: OPERATOR })
    expect(usage.body).toMatchObject({ keys: [{ keyId: key.id, jobs: 2, failed: 2, credits: 0 }] })
    // the refunded credits pay for new work
    expect((await generate(headers)).status).toBe(202)
  }, 180_000)
})

describe('insufficient credits, in each dialect', () => {
  const poor = () => newKey({ credits: SMALL_COST / 2 })

  it('native 402, Segmind 406 "Insufficient Credits", OpenAI 429 insufficient_quota, RunPod, Scenario and Chutes errors', async () => {
    const { headers } = await poor()
    const token = headers.authorization.slice(7)
    const cases: [string, Promise<Answer>, number, (body: unknown) => boolean][] = [
      [
        'native',
        generate(headers),
        402,
        (b) => (b as { error: { code: string } }).error.code === 'CREDITS_INSUFFICIENT',
      ],
      [
        'segmind',
        call('POST', `${base}/v2/default`, {
          headers: { 'x-api-key': token },
          json: { prompt: 'a fox', steps: 10 },
        }),
        406,
        (b) => /^Insufficient Credits/.test((b as { error: string }).error),
      ],
      [
        'openai',
        call('POST', `${base}/v1/images/generations`, {
          headers,
          json: { prompt: 'a fox', size: '256x256' },
        }),
        429,
        (b) => (b as { error: { type: string; code: string } }).error.code === 'insufficient_quota',
      ],
      [
        'runpod',
        call('POST', `${base}/v2/default/run`, {
          headers: { authorization: token },
          json: { input: { prompt: 'a fox', width: 64, height: 64, steps: 4 } },
        }),
        402,
        (b) => (b as { status: string }).status === 'error',
      ],
      [
        'scenario',
        call('POST', `${base}/scenario/v1/generate/txt2img`, {
          headers,
          json: { modelId: 'tiny-sd', prompt: 'a fox', width: 64, height: 64, numInferenceSteps: 4 },
        }),
        402,
        (b) => (b as { apiError: string }).apiError === 'CREDITS_INSUFFICIENT',
      ],
      [
        'chutes',
        call('POST', `${base}/generate`, {
          headers,
          json: { prompt: 'a fox', width: 64, height: 64, num_inference_steps: 4 },
        }),
        402,
        (b) => typeof (b as { detail: unknown }).detail === 'string',
      ],
    ]
    for (const [dialect, pending, status, shaped] of cases) {
      const answer = await pending
      expect(answer.status, `${dialect}: ${JSON.stringify(answer.body)}`).toBe(status)
      expect(shaped(answer.body), `${dialect}: ${JSON.stringify(answer.body)}`).toBe(true)
      if (dialect === 'segmind')
        expect(answer.headers.get('x-remaining-credits')).toBe(String(SMALL_COST / 2))
    }
  })

  it('Scenario dryRun prices a request with the same function, without charging', async () => {
    const { key, headers } = await poor()
    const answer = await call('POST', `${base}/scenario/v1/generate/txt2img?dryRun=true`, {
      headers,
      json: {
        modelId: 'tiny-sd',
        prompt: 'a fox',
        width: 64,
        height: 64,
        numInferenceSteps: 4,
        numSamples: 2,
      },
    })
    expect(answer.status).toBe(269)
    expect(answer.body).toMatchObject({ creativeUnitsCost: 2 * SMALL_COST })
    expect(ledgerOf(key.id).balanceMilli).toBe((SMALL_COST / 2) * 1000)
  })

  it('Segmind reports the real balance left after a request in x-remaining-credits', async () => {
    const { headers } = await newKey({ credits: 1 })
    const token = headers.authorization.slice(7)
    const answer = await call('POST', `${base}/v2/default`, {
      headers: { 'x-api-key': token },
      json: { prompt: 'a fox', steps: 10, aspect_ratio: 'custom', width: 768, height: 768 },
    })
    expect(answer.status).toBe(200)
    // 768·768·10 / (10·2^20) = 0.5625 → 0.563 credits reserved for the queued request
    expect(answer.headers.get('x-remaining-credits')).toBe('0.437')
    const { request_id } = answer.body as { request_id: string }
    await call('POST', `${base}/api/jobs/${request_id}/cancel`, { headers })
  })
})

describe('rate limits per key', () => {
  it('concurrent jobs beyond the key’s limit get 429 with Retry-After', async () => {
    const { headers } = await newKey({ concurrency: 1 })
    const long = await generate(headers, { width: 512, height: 512, steps: 150 }) // seconds of work: still running
    expect(long.status).toBe(202)
    const refused = await generate(headers)
    expect(refused.status).toBe(429)
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect(refused.body).toMatchObject({ error: { code: 'RATE_LIMITED' } })
    const openai = await call('POST', `${base}/v1/images/generations`, {
      headers,
      json: { prompt: 'a', size: '256x256' },
    })
    expect(openai.status).toBe(429)
    expect(openai.body).toMatchObject({ error: { code: 'rate_limit_exceeded' } })
    const id = (long.body as JobBody).id
    await call('POST', `${base}/api/jobs/${id}/cancel`, { headers })
    await finalJob(id, headers)
  }, 120_000)

  it('requests per minute beyond the key’s rpm get 429 with Retry-After, counted across dialects', async () => {
    const { headers } = await newKey({ rpm: 3 })
    const token = headers.authorization.slice(7)
    for (let i = 0; i < 3; i++) expect((await call('GET', `${base}/api/jobs`, { headers })).status).toBe(200)
    const native = await call('GET', `${base}/api/jobs`, { headers })
    expect(native.status).toBe(429)
    expect(Number(native.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect(native.body).toMatchObject({ error: { code: 'RATE_LIMITED' } })
    const openai = await call('GET', `${base}/v1/models`, { headers })
    expect([openai.status, (openai.body as { error: { code: string } }).error.code]).toEqual([
      429,
      'rate_limit_exceeded',
    ])
    const segmind = await call('GET', `${base}/v2/requests/abc/status`, { headers: { 'x-api-key': token } })
    expect(segmind.status).toBe(429)
    const scenario = await call('GET', `${base}/scenario/v1/jobs`, { headers })
    expect(scenario.status).toBe(429)
    expect(scenario.headers.get('retry-after')).not.toBeNull()
    // a key without rpm is not limited
    for (let i = 0; i < 5; i++)
      expect((await call('GET', `${base}/api/jobs`, { headers: OPERATOR })).status).toBe(200)
  })

  it('users read only their own usage', async () => {
    const { headers } = await newKey({})
    const other = await call('GET', `${base}/api/usage?keyId=0123456789abcdef`, { headers })
    expect(other.status).toBe(403)
    const own = await call('GET', `${base}/api/usage?from=2020-01-01`, { headers })
    expect(own.body).toMatchObject({ keys: [] })
    const bad = await call('GET', `${base}/api/usage?from=yesterday`, { headers })
    expect(bad.status).toBe(400)
  })
})
