/**
 * The RunPod worker dialect against the real server, driven by the official `runpod-sdk` client, unmodified,
 * with `baseUrl` pointed at Pigment's `/v2` (run, runSync, status, statusSync, stream, cancel, health,
 * purgeQueue), and by plain HTTP for load-balancer mode and RunPod's bare `Authorization` header.
 */
import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import runpodSdk from 'runpod-sdk'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { postJson, type ServerProcess } from '../integration/server-harness.js'
import { API_KEY, download, imageInfo, startDialectServer } from './support.js'

const fixture = (name: string) =>
  JSON.parse(readFileSync(new URL(`../fixtures/dialects/runpod/${name}`, import.meta.url), 'utf8'))

let server: ServerProcess
let endpoint: NonNullable<ReturnType<ReturnType<typeof runpodSdk>['endpoint']>>
/** Long enough (seconds at 512×512) to still be running while later requests queue behind it (one worker). */
const slow = { input: { prompt: 'slow', size: '512x512', steps: 150 } }
const small = (extra: object = {}) => ({ input: { prompt: 'a red cube', size: '64x64', steps: 2, ...extra } })

beforeAll(async () => {
  server = await startDialectServer(['--webhook-allow', '127.0.0.1']) // its webhook receiver listens on loopback
  const sdk = runpodSdk(API_KEY, { baseUrl: `${server.url}/v2` })
  endpoint = sdk.endpoint('chroma')!
})

afterAll(async () => {
  await server?.stop()
})

describe('runpod-sdk against Pigment', () => {
  it('runSync with the seed example answers the documented output, with a working presigned URL', async () => {
    const result = await endpoint.runSync(fixture('queue-request.json'))
    expect(result).toMatchObject({ status: 'COMPLETED', completed: true, succeeded: true })
    const output = result.output
    expect(output).toMatchObject({
      status: 'ok',
      count: 1,
      uploaded: true,
      s3_bucket: null,
      meta: {
        height: 1024,
        width: 1024,
        num_inference_steps: 8,
        guidance_scale: 1,
        num_images: 1,
        seed: 2025,
        format: 'PNG',
      },
    })
    expect(output.s3_keys).toHaveLength(1)
    const image = await imageInfo(await download(output.presigned_urls[0]))
    expect(image).toMatchObject({ format: 'png', width: 1024, height: 1024 })
    expect(image.parameters).toMatchObject({
      steps: 8,
      seed: 2025,
      cfg: 1,
      negativePrompt: 'blurry, low quality',
    })
  })

  it('run → IN_QUEUE; status and statusSync follow it to COMPLETED', async () => {
    const queued = await endpoint.run(small())
    expect(queued).toEqual({ id: expect.any(String), status: 'IN_QUEUE' })
    const done = await endpoint.statusSync(queued.id, 30_000)
    expect(done).toMatchObject({ id: queued.id, status: 'COMPLETED', completed: true })
    const status = await endpoint.status(queued.id)
    expect(status).toMatchObject({
      status: 'COMPLETED',
      delayTime: expect.any(Number),
      executionTime: expect.any(Number),
    })
  })

  it('stream yields the output when the job is done', async () => {
    const { id } = await endpoint.run(small())
    const outputs: unknown[] = []
    for await (const item of endpoint.stream(id)) outputs.push(item)
    expect(outputs).toEqual([{ output: expect.objectContaining({ status: 'ok', count: 1 }) }])
  })

  it('cancel, health and purgeQueue', async () => {
    const running = await endpoint.run(slow)
    const waiting = await endpoint.run(small())
    const behind = await endpoint.run(small())
    const health = await endpoint.health()
    expect(health.jobs.inQueue + health.jobs.inProgress).toBeGreaterThanOrEqual(3)
    expect(health.workers).toMatchObject({ idle: expect.any(Number), running: expect.any(Number) })
    expect(await endpoint.cancel(waiting.id)).toMatchObject({ id: waiting.id, status: 'CANCELLED' })
    expect((await endpoint.status(waiting.id)).status).toBe('CANCELLED')
    const purged = await endpoint.purgeQueue()
    expect(purged.removed).toBeGreaterThanOrEqual(1)
    expect((await endpoint.status(behind.id)).status).toBe('CANCELLED')
    expect((await endpoint.cancel(running.id)).status).toMatch(/CANCELLED|IN_PROGRESS/)
    expect((await endpoint.statusSync(running.id, 30_000)).status).toBe('CANCELLED')
  })

  it('n, size and output_format: n WEBP images with consecutive seeds', async () => {
    const result = await endpoint.runSync(small({ n: 2, size: '96x64', output_format: 'WEBP', seed: 40 }))
    const infos = await Promise.all(
      result.output.presigned_urls.map(async (url: string) => imageInfo(await download(url))),
    )
    expect(infos.map((info) => [info.format, info.width, info.height])).toEqual([
      ['webp', 96, 64],
      ['webp', 96, 64],
    ])
    expect(infos.map((info) => info.parameters?.seed)).toEqual([40, 41])
  })

  it('webhook: the final status is POSTed to the given URL', async () => {
    const received: unknown[] = []
    const hook = createServer(async (request, response) => {
      let text = ''
      for await (const chunk of request) text += chunk
      received.push(JSON.parse(text))
      response.end()
    })
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve))
    try {
      const url = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/done`
      const { id } = await endpoint.run({ ...small(), webhook: url })
      for (let i = 0; i < 300 && received.length === 0; i++) await new Promise((r) => setTimeout(r, 50))
      expect(received).toEqual([expect.objectContaining({ id, status: 'COMPLETED' })])
    } finally {
      await new Promise((resolve) => hook.close(resolve))
    }
  })

  it('warmup through the client answers {status: ok, warmed: true}', async () => {
    const result = await endpoint.runSync(fixture('warmup.json'))
    expect(result.output).toEqual({ status: 'ok', warmed: true })
  })
})

describe('plain HTTP', () => {
  const headers = { authorization: API_KEY }

  it("RunPod's bare Authorization header works; a wrong key is 401 in the worker's error shape", async () => {
    const ok = await postJson(`${server.url}/v2/chroma/runsync`, small(), headers)
    expect(((await ok.json()) as { status: string }).status).toBe('COMPLETED')
    const refused = await postJson(`${server.url}/v2/chroma/run`, small(), { authorization: 'wrong' })
    expect(refused.status).toBe(401)
    expect(await refused.json()).toEqual({ status: 'error', error: expect.any(String) })
  })

  it('load-balancer mode: the direct example answers the worker output, 768x768 by default', async () => {
    const response = await postJson(`${server.url}/run`, fixture('lb-direct.json'), headers)
    const output = (await response.json()) as { presigned_urls: string[] }
    expect(output).toMatchObject({
      status: 'ok',
      count: 1,
      meta: { width: 768, height: 768, num_inference_steps: 6 },
    })
    const image = await imageInfo(await download(output.presigned_urls[0]))
    expect(image).toMatchObject({ format: 'png', width: 768, height: 768 })
  })

  it.each([
    ['missing prompt', { input: { steps: 2 } }, 400],
    ['unknown endpoint', small(), 404],
    ['comfy passthrough', fixture('comfy-prompt.json'), 501],
  ])('%s → %i {status: "error", error}', async (name, body, status) => {
    const url = name === 'unknown endpoint' ? `${server.url}/v2/nope/run` : `${server.url}/v2/chroma/run`
    const response = await postJson(url, body, headers)
    expect(response.status).toBe(status)
    expect(await response.json()).toEqual({ status: 'error', error: expect.any(String) })
  })
})
