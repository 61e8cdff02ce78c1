/**
 * `pigment serve --no-bundled-models` with no `--model`: the real server starts, says it is not ready, and
 * answers generations 503 MODEL_NOT_CONFIGURED in the native and OpenAI envelopes instead of quietly
 * generating with the bundled pigment-shapes. The model cache is an empty folder, so a pigment-shapes
 * installed on the machine running the tests cannot stand in for the hidden one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { postJson, type ServerProcess, startServer, tempDir } from './server-harness.js'

const HOW_TO_ADD = /^no model is configured: start the server with --model DIR/

let server: ServerProcess

beforeAll(async () => {
  server = await startServer(['--data-dir', tempDir('no-bundled'), '--no-bundled-models'], {
    PIGMENT_MODELS_DIR: tempDir('empty-cache'),
  })
})

afterAll(async () => {
  await server?.stop()
})

describe('a server with the bundled models hidden and no --model', () => {
  it('is live but not ready, and offers no model', async () => {
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200)
    const ready = await fetch(`${server.url}/readyz`)
    expect(ready.status).toBe(503)
    expect(await ready.json()).toMatchObject({ status: 'unready' })
    const listed = (await (await fetch(`${server.url}/api/models`)).json()) as { models: unknown[] }
    expect(listed.models).toEqual([])
  })

  it('native: 503 MODEL_NOT_CONFIGURED', async () => {
    const response = await postJson(`${server.url}/api/generations`, { prompt: 'a red cube' })
    expect(response.status).toBe(503)
    const { error } = (await response.json()) as { error: { code: string; message: string } }
    expect(error.code).toBe('MODEL_NOT_CONFIGURED')
    expect(error.message).toMatch(HOW_TO_ADD)
  })

  it('OpenAI: 503 server_error', async () => {
    const response = await postJson(`${server.url}/v1/images/generations`, { prompt: 'a red cube' })
    expect(response.status).toBe(503)
    expect(await response.json()).toEqual({
      error: { message: expect.stringMatching(HOW_TO_ADD), type: 'server_error', param: null, code: null },
    })
  })
})
