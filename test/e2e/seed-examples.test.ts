/**
 * Every example request of the API documents in `shared/seeds/` (copied under `test/fixtures/dialects/`), sent
 * unchanged to the real server started on the bundled defaults: no `--model`, so the bundled `pigment-shapes`
 * (native 64×64) answers under the names the examples use (`chroma`, `qwen-image`, `default`), at the sizes
 * they ask for (768 and 1024 px, Scenario's 512), by generating at 64×64 and resizing.
 */
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { postJson, type ServerProcess, startServer, tempDir } from '../integration/server-harness.js'
import { download, imageInfo } from './support.js'

function fixture(path: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(`../fixtures/dialects/${path}`, import.meta.url), 'utf8'))
}

let server: ServerProcess

beforeAll(async () => {
  server = await startServer(['--data-dir', tempDir('seed-examples')])
})

afterAll(async () => {
  await server?.stop()
})

async function bytesOf(response: Response): Promise<Uint8Array> {
  return new Uint8Array(await response.arrayBuffer())
}

async function pollJson<T>(url: string, done: (body: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const body = (await (await fetch(url)).json()) as T
    if (done(body) || Date.now() > deadline) return body
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

interface WorkerOutput {
  readonly status: string
  readonly presigned_urls: string[]
  readonly meta: { width: number; height: number; native_size?: string }
}

describe('000: the RunPod worker cheat sheet', () => {
  it('queue_mode_runsync (the Req/Res example) completes with a 1024×1024 PNG made at 64×64', async () => {
    const response = await postJson(`${server.url}/v2/chroma/runsync`, fixture('runpod/queue-request.json'))
    expect(response.status).toBe(200)
    const body = (await response.json()) as { status: string; output: WorkerOutput }
    expect(body.status).toBe('COMPLETED')
    expect(body.output.meta).toMatchObject({ width: 1024, height: 1024, native_size: '64x64' })
    const image = await imageInfo(await download(body.output.presigned_urls[0]))
    expect(image).toMatchObject({ format: 'png', width: 1024, height: 1024 })
    expect(image.parameters).toMatchObject({ seed: 2025, steps: 8, width: 1024, height: 1024 })
    expect(image.parameters?.extra).toMatchObject({ 'Native size': '64x64', Resize: 'Lanczos3' })
  })

  it('lb_mode_direct, posted to the load balancer, answers the worker output with a 768×768 PNG', async () => {
    const response = await postJson(`${server.url}/run`, fixture('runpod/lb-direct.json'))
    expect(response.status).toBe(200)
    const output = (await response.json()) as WorkerOutput
    expect(output.status).toBe('ok')
    const image = await imageInfo(await download(output.presigned_urls[0]))
    expect(image).toMatchObject({ format: 'png', width: 768, height: 768 })
  })

  it('a prompt alone takes the worker defaults (768×768)', async () => {
    const response = await postJson(`${server.url}/v2/chroma/runsync`, fixture('runpod/prompt-only.json'))
    const body = (await response.json()) as { status: string; output: WorkerOutput }
    expect(body.status).toBe('COMPLETED')
    expect(body.output.meta).toMatchObject({ width: 768, height: 768 })
  })
})

describe('001/002: Segmind', () => {
  const example = fixture('segmind/chroma.json')

  it('the JavaScript example (POST /v1/chroma) answers a 1024×1024 PNG', async () => {
    const response = await postJson(`${server.url}/v1/chroma`, example, { 'x-api-key': 'YOUR API-KEY' })
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('image/png')
    const image = await imageInfo(await bytesOf(response))
    expect(image).toMatchObject({ format: 'png', width: 1024, height: 1024 })
    expect(image.parameters).toMatchObject({ steps: 40, cfg: 7, seed: 123456789 })
  })

  it('the Python example (v2 submit, poll status_url, read response_url) ends COMPLETED with an image', async () => {
    const submit = await postJson(`${server.url}/v2/chroma`, example)
    expect(submit.status).toBe(200)
    const job = (await submit.json()) as { status_url: string; response_url: string }
    const status = await pollJson<{ status: string }>(
      job.status_url,
      (s) => s.status !== 'QUEUED' && s.status !== 'PROCESSING',
    )
    expect(status.status).toBe('COMPLETED')
    const result = (await (await fetch(job.response_url)).json()) as { status: string; output: string }
    expect(result.status).toBe('COMPLETED')
    expect(await imageInfo(await download(result.output))).toMatchObject({ width: 1024, height: 1024 })
  })
})

describe('003: Chutes', () => {
  it('the curl / aiohttp example answers a 1024×1024 JPEG', async () => {
    const response = await postJson(`${server.url}/generate`, fixture('chutes/generate.json'), {
      authorization: 'Bearer CHUTES_API_TOKEN',
    })
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('image/jpeg')
    expect(await imageInfo(await bytesOf(response))).toMatchObject({
      format: 'jpeg',
      width: 1024,
      height: 1024,
    })
  })
})

describe('004: Scenario', () => {
  it('POST /generate/txt2img with the document’s example prompt ends in success with 4 images of 512×512', async () => {
    const api = `${server.url}/scenario/v1`
    const submit = await postJson(`${api}/generate/txt2img`, fixture('scenario/txt2img.json'))
    expect(submit.status).toBe(200)
    const { job } = (await submit.json()) as { job: { jobId: string } }
    const done = await pollJson<{ job: { status: string; metadata: { assetIds: string[] } } }>(
      `${api}/jobs/${job.jobId}`,
      (body) => ['success', 'failure', 'canceled'].includes(body.job.status),
    )
    expect(done.job.status).toBe('success')
    expect(done.job.metadata.assetIds).toHaveLength(4)
    const { asset } = (await (await fetch(`${api}/assets/${done.job.metadata.assetIds[0]}`)).json()) as {
      asset: { url: string }
    }
    expect(await imageInfo(await download(asset.url))).toMatchObject({ width: 512, height: 512 })
  })
})
