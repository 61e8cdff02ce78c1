/**
 * The OpenAI Images dialect against the real server, driven by the official `openai` client, unmodified,
 * with `baseURL` pointed at Pigment's `/v1`: images.generate with `url` and with `b64_json`, models.list,
 * and the client's own error classes for bad input.
 */
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ServerProcess } from '../integration/server-harness.js'
import { ALIASES, API_KEY, download, imageInfo, startDialectServer } from './support.js'

let server: ServerProcess
let client: OpenAI

beforeAll(async () => {
  server = await startDialectServer()
  client = new OpenAI({ apiKey: API_KEY, baseURL: `${server.url}/v1`, maxRetries: 0 })
})

afterAll(async () => {
  await server?.stop()
})

describe('images.generate', () => {
  it('response_format url: a URL that serves the PNG', async () => {
    const response = await client.images.generate({
      prompt: 'A cute baby sea otter',
      model: 'dall-e-3',
      size: '64x64',
      response_format: 'url',
    })
    expect(response).toMatchObject({ created: expect.any(Number), output_format: 'png', size: '64x64' })
    expect(response.data).toHaveLength(1)
    const image = await imageInfo(await download(response.data![0].url!))
    expect(image).toMatchObject({ format: 'png', width: 64, height: 64 })
    expect(image.parameters?.prompt).toBe('A cute baby sea otter')
  })

  it('response_format b64_json: the image itself', async () => {
    const response = await client.images.generate({ prompt: 'p', size: '64x64', response_format: 'b64_json' })
    const bytes = Buffer.from(response.data![0].b64_json!, 'base64')
    expect(await imageInfo(bytes)).toMatchObject({ format: 'png', width: 64, height: 64 })
  })

  it('n makes n images with consecutive seeds', async () => {
    const response = await client.images.generate({
      prompt: 'p',
      size: '64x64',
      n: 3,
      response_format: 'b64_json',
    })
    const seeds = await Promise.all(
      response.data!.map(
        async (image) => (await imageInfo(Buffer.from(image.b64_json!, 'base64'))).parameters?.seed,
      ),
    )
    expect(seeds).toHaveLength(3)
    expect(seeds).toEqual([seeds[0], seeds[0]! + 1, seeds[0]! + 2])
  })

  it('size sets both dimensions', async () => {
    const response = await client.images.generate({
      prompt: 'p',
      size: '128x64',
      response_format: 'b64_json',
    })
    expect(await imageInfo(Buffer.from(response.data![0].b64_json!, 'base64'))).toMatchObject({
      width: 128,
      height: 64,
    })
  })

  it.each(['jpeg', 'webp'] as const)('output_format %s changes the bytes’ format', async (format) => {
    const response = await client.images.generate({
      prompt: 'p',
      size: '64x64',
      output_format: format,
      output_compression: 50,
      response_format: 'b64_json',
    })
    expect(response.output_format).toBe(format)
    expect((await imageInfo(Buffer.from(response.data![0].b64_json!, 'base64'))).format).toBe(format)
  })

  it('output_compression trades bytes for detail', async () => {
    const sizeAt = async (output_compression: number) => {
      const response = await client.images.generate({
        prompt: 'p',
        size: '256x256',
        output_format: 'jpeg',
        output_compression,
        response_format: 'b64_json',
      })
      return Buffer.from(response.data![0].b64_json!, 'base64').length
    }
    expect(await sizeAt(5)).toBeLessThan(await sizeAt(100))
  })

  it('quality low uses fewer steps than high', async () => {
    const steps = async (quality: 'low' | 'high') => {
      const response = await client.images.generate({
        prompt: 'p',
        size: '64x64',
        quality,
        response_format: 'b64_json',
      })
      return (await imageInfo(Buffer.from(response.data![0].b64_json!, 'base64'))).parameters?.steps
    }
    expect(await steps('low')).toBe(10)
    expect(await steps('high')).toBe(30)
  })
})

describe('models.list', () => {
  it('lists the model and its aliases', async () => {
    const ids: string[] = []
    for await (const model of client.models.list()) ids.push(model.id)
    expect(ids.sort()).toEqual(['tiny-sd', ...ALIASES].sort())
    expect((await client.models.retrieve('chroma')).id).toBe('chroma')
  })
})

describe('errors reach the client as OpenAI errors', () => {
  it('a value out of range → BadRequestError naming the param', async () => {
    const error = await client.images.generate({ prompt: 'p', n: 11 }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(OpenAI.BadRequestError)
    expect(error).toMatchObject({ status: 400, param: 'n', type: 'invalid_request_error' })
  })

  it('a missing prompt → BadRequestError missing_required_parameter', async () => {
    const error = await client.images.generate({} as never).catch((e: unknown) => e)
    expect(error).toMatchObject({ status: 400, param: 'prompt', code: 'missing_required_parameter' })
  })

  it('an unknown model → NotFoundError model_not_found', async () => {
    const error = await client.images.generate({ prompt: 'p', model: 'gpt-image-1' }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(OpenAI.NotFoundError)
    expect(error).toMatchObject({ code: 'model_not_found' })
  })

  it('a wrong key → AuthenticationError', async () => {
    const stranger = new OpenAI({ apiKey: 'sk-wrong', baseURL: `${server.url}/v1`, maxRetries: 0 })
    const error = await stranger.models.list().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError)
    expect(error).toMatchObject({ status: 401, code: 'invalid_api_key' })
  })
})
