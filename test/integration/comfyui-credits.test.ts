/**
 * A ComfyUI job retried after a ComfyUI restart is charged once, exactly what the same job costs without the
 * restart (read from the ledger in the database file); the RunPod `comfy` passthrough is for admin keys only.
 * The real server with API keys, in front of the fake ComfyUI.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import SqliteDatabase from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type FakeComfyUI, startFakeComfyUI } from '../support/fake-comfyui/index.js'
import { call } from './auth-helpers.js'
import { type JobBody, type ServerProcess, startServer, tempDir } from './server-harness.js'

const OPERATOR = { authorization: 'Bearer operator-key-5d1c9e77' }
const GRANT_MILLI = 100_000
const FILES = { unet: 'chroma.safetensors', t5: 't5xxl.safetensors', vae: 'ae.safetensors' }
let comfy: FakeComfyUI
let server: ServerProcess
let dataDir: string

beforeAll(async () => {
  comfy = await startFakeComfyUI({
    models: { diffusion_models: [FILES.unet], text_encoders: [FILES.t5], vae: [FILES.vae] },
    stepDelayMs: 2,
  })
  dataDir = tempDir('comfyui-credits')
  const config = join(tempDir('comfyui-credits-config'), 'pigment.json')
  writeFileSync(
    config,
    JSON.stringify({
      comfyui: {
        healthSeconds: 0.1,
        pollSeconds: 0.2,
        models: [{ name: 'chroma', template: 'chroma', files: FILES }],
      },
    }),
  )
  server = await startServer([
    ...['--data-dir', dataDir, '--config', config, '--comfyui', comfy.url],
    ...['--api-key', OPERATOR.authorization.slice(7)],
  ])
}, 60_000)

afterAll(async () => {
  await server?.stop()
  await comfy?.close()
})

async function newKey(credits: number): Promise<{ id: string; headers: Record<string, string> }> {
  const answer = await call('POST', `${server.url}/api/admin/keys`, {
    headers: OPERATOR,
    json: { name: 'comfy', credits },
  })
  expect(answer.status).toBe(201)
  const { key, token } = answer.body as { key: { id: string }; token: string }
  return { id: key.id, headers: { authorization: `Bearer ${token}` } }
}

function spentMilli(keyId: string): { spent: number; charges: number } {
  const db = new SqliteDatabase(join(dataDir, 'pigment.db'), { readonly: true, fileMustExist: true })
  try {
    const { total } = db
      .prepare('select coalesce(sum(amount_milli), 0) as total from credit_ledger where key_id = ?')
      .get(keyId) as { total: number }
    const { n } = db.prepare('select count(*) as n from credit_charges where key_id = ?').get(keyId) as {
      n: number
    }
    // the ledger holds the key's grant (100 credits) and what its jobs spent since
    return { spent: GRANT_MILLI - total, charges: n }
  } finally {
    db.close()
  }
}

async function finished(id: string, headers: Record<string, string>): Promise<JobBody> {
  for (let i = 0; i < 600; i++) {
    const job = (await call('GET', `${server.url}/api/jobs/${id}`, { headers })).body as JobBody
    if (['succeeded', 'failed', 'canceled'].includes(job.state)) return job
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`job ${id} did not finish`)
}

async function settled(keyId: string) {
  // settlement follows the job's end
  for (let i = 0; i < 100; i++) {
    const db = new SqliteDatabase(join(dataDir, 'pigment.db'), { readonly: true, fileMustExist: true })
    const { n } = db
      .prepare("select count(*) as n from credit_charges where key_id = ? and state = 'reserved'")
      .get(keyId) as { n: number }
    db.close()
    if (n === 0) return spentMilli(keyId)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error('charges still reserved')
}

const body = { prompt: 'a red cube', model: 'chroma', width: 64, height: 64, steps: 4, async: true }

describe('credits in front of ComfyUI', () => {
  it('a job retried after a ComfyUI restart is charged once, as much as one that ran once', async () => {
    const plain = await newKey(100)
    const job1 = (await call('POST', `${server.url}/api/generations`, { headers: plain.headers, json: body }))
      .body as JobBody
    expect((await finished(job1.id, plain.headers)).attempts).toBe(1)
    const once = await settled(plain.id)

    const retried = await newKey(100)
    comfy.stepDelayMs = 1000
    const before = comfy.prompts.length
    const job2 = (
      await call('POST', `${server.url}/api/generations`, { headers: retried.headers, json: body })
    ).body as JobBody
    await expect.poll(() => comfy.prompts.length > before, { timeout: 10_000 }).toBe(true)
    await comfy.restart()
    comfy.stepDelayMs = 2
    const done = await finished(job2.id, retried.headers)
    expect(done).toMatchObject({ state: 'succeeded', attempts: 2 })
    const twice = await settled(retried.id)
    expect(once.spent).toBeGreaterThan(0)
    expect(twice).toEqual(once)
  })

  it('the comfy passthrough needs an admin key', async () => {
    const user = await newKey(100)
    const input = {
      comfy: true,
      payload: { prompt: { '1': { class_type: 'SaveImage', inputs: { images: ['2', 0] } } } },
    }
    const answer = await call('POST', `${server.url}/v2/chroma/runsync`, {
      headers: user.headers,
      json: { input },
    })
    expect(answer.status).toBe(403)
    expect(comfy.prompts.every((p) => !JSON.stringify(p.graph).includes('"images":["2",0]'))).toBe(true)
  })
})
