/**
 * The Segmind dialect against the real server, driven with plain HTTP exactly as Segmind's documents do:
 * the JavaScript example's body and `x-api-key` header on `POST /v1/chroma`, and the v2 submit / poll /
 * result cycle the Python SDK runs (`status_url`, then `response_url`).
 */
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { postJson, type ServerProcess } from '../integration/server-harness.js'
import { API_KEY, download, imageInfo, startDialectServer } from './support.js'

const example = JSON.parse(
  readFileSync(new URL('../fixtures/dialects/segmind/chroma.json', import.meta.url), 'utf8'),
)
const headers = { 'x-api-key': API_KEY }
let server: ServerProcess
/** The smallest request the documented ranges allow, to keep the tests quick. */
const quick = (extra: object = {}) => ({
  prompt: 'a red cube',
  aspect_ratio: 'custom',
  width: 768,
  height: 768,
  steps: 10,
  ...extra,
})

beforeAll(async () => {
  server = await startDialectServer()
})

afterAll(async () => {
  await server?.stop()
})

async function bytesOf(response: Response): Promise<Uint8Array> {
  return new Uint8Array(await response.arrayBuffer())
}

describe('POST /v1/chroma', () => {
  it('the documented example answers a 1024x1024 PNG, with x-remaining-credits', async () => {
    const response = await postJson(`${server.url}/v1/chroma`, example, headers)
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('image/png')
    expect(Number(response.headers.get('x-remaining-credits'))).toBeGreaterThan(0)
    const image = await imageInfo(await bytesOf(response))
    expect(image).toMatchObject({ format: 'png', width: 1024, height: 1024 })
    expect(image.parameters).toMatchObject({
      steps: 40,
      cfg: 7,
      seed: 123456789,
      sampler: 'euler',
      scheduler: 'beta',
    })
  })

  it.each([
    ['jpeg', 'image/jpeg'],
    ['webp', 'image/webp'],
  ])('image_format %s changes the bytes and the content type', async (format, type) => {
    const response = await postJson(
      `${server.url}/v1/chroma`,
      quick({ image_format: format, image_quality: 50 }),
      headers,
    )
    expect(response.headers.get('content-type')).toBe(type)
    expect((await imageInfo(await bytesOf(response))).format).toBe(format)
  })

  it('image_quality trades bytes for detail', async () => {
    const sizeAt = async (image_quality: number) => {
      const body = quick({ image_format: 'jpeg', image_quality, seed: 3 })
      return (await bytesOf(await postJson(`${server.url}/v1/chroma`, body, headers))).length
    }
    expect(await sizeAt(5)).toBeLessThan(await sizeAt(95))
  })

  it('base64: true answers JSON with the image in base64', async () => {
    const response = await postJson(`${server.url}/v1/chroma`, quick({ base64: true }), headers)
    const body = (await response.json()) as { image: string }
    expect(await imageInfo(Buffer.from(body.image, 'base64'))).toMatchObject({ format: 'png', width: 768 })
  })

  it('an aspect_ratio preset sets the size; seed and sampler land in the image', async () => {
    const response = await postJson(
      `${server.url}/v1/chroma`,
      {
        ...quick(),
        aspect_ratio: '9:16 portrait 768x1344',
        seed: 5,
        sampler_name: 'euler_a',
        scheduler: 'karras',
      },
      headers,
    )
    const image = await imageInfo(await bytesOf(response))
    expect(image).toMatchObject({ width: 768, height: 1344 })
    expect(image.parameters).toMatchObject({ seed: 5, sampler: 'euler_ancestral', scheduler: 'karras' })
  })
})

describe('v2: submit, poll status_url, fetch response_url', () => {
  it('reaches COMPLETED and the output URL serves the image', async () => {
    const submit = await postJson(`${server.url}/v2/chroma`, quick({ samples: 2 }), headers)
    expect(submit.status).toBe(200)
    const job = (await submit.json()) as {
      request_id: string
      status: string
      status_url: string
      response_url: string
    }
    expect(job.status).toBe('QUEUED')
    let status = ''
    for (let i = 0; i < 300 && status !== 'COMPLETED'; i++) {
      const poll = await fetch(job.status_url, { headers })
      status = ((await poll.json()) as { status: string }).status
      expect(['QUEUED', 'PROCESSING', 'COMPLETED']).toContain(status)
      if (status !== 'COMPLETED') await new Promise((resolve) => setTimeout(resolve, 100))
    }
    const result = await fetch(job.response_url, { headers })
    const body = (await result.json()) as {
      status: string
      output: string[]
      metrics: { inference_time: number }
    }
    expect(body.status).toBe('COMPLETED')
    expect(body.metrics.inference_time).toBeGreaterThan(0)
    const images = await Promise.all(body.output.map(async (url) => imageInfo(await download(url))))
    expect(images.map((image) => image.parameters?.seed)).toEqual([
      images[0].parameters?.seed,
      (images[0].parameters?.seed ?? 0) + 1,
    ])
  })

  it('an unknown request id is 404 {error}', async () => {
    const response = await fetch(`${server.url}/v2/requests/01hzzzzzzzzzzzzzzzzzzzzzzz/status`, { headers })
    expect(response.status).toBe(404)
    expect(await response.json()).toEqual({ error: expect.any(String) })
  })
})

describe('documented errors', () => {
  it.each([
    ['400, a parameter out of range', `/v1/chroma`, { ...example, steps: 100 }, headers, 400],
    ['400, no prompt', `/v1/chroma`, { steps: 20 }, headers, 400],
    ['401, a wrong key', `/v1/chroma`, example, { 'x-api-key': 'SG_wrong' }, 401],
    ['401, no key', `/v1/chroma`, example, {}, 401],
    ['404, an unknown model', `/v1/not-a-model`, example, headers, 404],
  ])('%s', async (_name, path, body, requestHeaders, status) => {
    const response = await postJson(`${server.url}${path}`, body, requestHeaders)
    expect(response.status).toBe(status)
    expect(await response.json()).toEqual({ error: expect.any(String) })
    expect(response.headers.get('x-remaining-credits')).not.toBeNull()
  })
})
