/**
 * The Chutes dialect against the real server, driven with plain HTTP exactly as Chutes' document does: the
 * curl example's body with `Authorization: Bearer`, answered with raw JPEG bytes.
 */
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { postJson, type ServerProcess } from '../integration/server-harness.js'
import { API_KEY, imageInfo, startDialectServer } from './support.js'

const example = JSON.parse(
  readFileSync(new URL('../fixtures/dialects/chutes/generate.json', import.meta.url), 'utf8'),
)
const headers = { authorization: `Bearer ${API_KEY}` }
let server: ServerProcess

beforeAll(async () => {
  server = await startDialectServer()
})

afterAll(async () => {
  await server?.stop()
})

async function generate(body: object, requestHeaders = headers) {
  const response = await postJson(`${server.url}/generate`, body, requestHeaders)
  return { response, bytes: new Uint8Array(await response.arrayBuffer()) }
}

describe('POST /generate', () => {
  it('the documented curl example answers raw 1024x1024 JPEG bytes', async () => {
    const { response, bytes } = await generate(example)
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('image/jpeg')
    const image = await imageInfo(bytes)
    expect(image).toMatchObject({ format: 'jpeg', width: 1024, height: 1024 })
    expect(image.parameters).toMatchObject({
      steps: 50,
      cfg: 7.5,
      negativePrompt: 'blur, distortion, low quality',
    })
  })

  it('width, height, num_inference_steps, true_cfg_scale and seed take effect', async () => {
    const body = {
      prompt: 'a red cube',
      width: 96,
      height: 64,
      num_inference_steps: 3,
      true_cfg_scale: 2,
      seed: 9,
    }
    const first = await generate(body)
    const image = await imageInfo(first.bytes)
    expect(image).toMatchObject({ width: 96, height: 64 })
    expect(image.parameters).toMatchObject({ steps: 3, cfg: 2, seed: 9 })
    const again = await generate(body)
    expect(Buffer.from(again.bytes).equals(Buffer.from(first.bytes))).toBe(true)
    const other = await generate({ ...body, seed: 10 })
    expect(Buffer.from(other.bytes).equals(Buffer.from(first.bytes))).toBe(false)
  })

  it('defaults: 1024x1024, 50 steps, true_cfg_scale 4', async () => {
    const image = await imageInfo((await generate({ prompt: 'p' })).bytes)
    expect(image).toMatchObject({ width: 1024, height: 1024 })
    expect(image.parameters).toMatchObject({ steps: 50, cfg: 4 })
  })

  it.each([
    ['no token', { prompt: 'p' }, {}, 401],
    ['a wrong token', { prompt: 'p' }, { authorization: 'Bearer nope' }, 401],
    ['no prompt', { width: 64 }, headers, 422],
    ['a wrong type', { prompt: 'p', width: '64' }, headers, 422],
    ['an unknown model', { prompt: 'p', model: 'flux-dev' }, headers, 404],
  ])('%s → %i in FastAPI’s {detail} shape', async (_name, body, requestHeaders, status) => {
    const response = await postJson(`${server.url}/generate`, body, requestHeaders)
    expect(response.status).toBe(status)
    expect(await response.json()).toEqual({
      detail: status === 422 ? [expect.objectContaining({ loc: expect.any(Array) })] : expect.any(String),
    })
  })
})
