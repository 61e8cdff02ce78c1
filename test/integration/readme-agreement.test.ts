/**
 * What the README promises about the edges of the API, against the real server with a key configured: which
 * routes are open (`/healthz`, `/readyz`, `/metrics`, `/docs`, `/openapi.json` unless `--metrics-auth` /
 * `--docs-auth`), the status of a body that is not JSON in every dialect, errors naming each dialect's own
 * parameter, and a `/docs` page that renders in a real browser without console errors.
 */
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { postJson, type ServerProcess, startServer, tempDir } from './server-harness.js'

const KEY = 'readme-agreement-key-0123'
const BEARER = { authorization: `Bearer ${KEY}` }

describe('with a key configured (defaults)', () => {
  let server: ServerProcess
  beforeAll(async () => {
    server = await startServer(['--data-dir', tempDir('agreement'), '--api-key', KEY])
  })
  afterAll(async () => {
    await server?.stop()
  })

  it('/metrics, /docs and /openapi.json answer without a key; the API does not', async () => {
    for (const path of ['/healthz', '/metrics', '/docs/', '/openapi.json', '/docs/json']) {
      expect((await fetch(`${server.url}${path}`)).status, path).toBe(200)
    }
    expect((await fetch(`${server.url}/api/jobs`)).status).toBe(401)
  })

  it.each([
    ['/api/generations', 400],
    ['/v2/chroma/runsync', 400],
    ['/run', 400],
    ['/v1/chroma', 400],
    ['/generate', 422],
    ['/v1/images/generations', 400],
    ['/scenario/v1/generate/txt2img', 400],
  ])('a body that is not valid JSON on %s answers %i, as the README says', async (path, status) => {
    const response = await fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { ...BEARER, 'content-type': 'application/json' },
      body: '{"prompt": ',
    })
    expect(response.status).toBe(status)
  })

  it('a body sent as another content type answers 415', async () => {
    const response = await fetch(`${server.url}/api/generations`, {
      method: 'POST',
      headers: { ...BEARER, 'content-type': 'text/plain' },
      body: 'a red circle',
    })
    expect(response.status).toBe(415)
  })

  it('OpenAI: a size the server refuses names `size`', async () => {
    const response = await postJson(
      `${server.url}/v1/images/generations`,
      { prompt: 'a', size: '100x96' },
      BEARER,
    )
    expect(response.status).toBe(400)
    const { error } = (await response.json()) as { error: { param: string; message: string } }
    expect(error.param).toBe('size')
    expect(error.message).toContain("'size'")
  })

  it('Scenario: steps and samples beyond the model name numInferenceSteps and numSamples', async () => {
    const api = `${server.url}/scenario/v1/generate/txt2img`
    const auth = { authorization: `Basic ${Buffer.from(`${KEY}:${KEY}`).toString('base64')}` }
    const steps = await postJson(api, { modelId: 'default', prompt: 'a', numInferenceSteps: 120 }, auth)
    expect(steps.status).toBe(400)
    expect(((await steps.json()) as { infos: { field: string } }).infos.field).toBe('numInferenceSteps')
    const samples = await postJson(api, { modelId: 'default', prompt: 'a', numSamples: 100 }, auth)
    expect(((await samples.json()) as { error: string }).error).toMatch(/^numSamples: /)
  })

  it('Segmind and RunPod: too many images name samples and num_images', async () => {
    const segmind = await postJson(
      `${server.url}/v1/chroma`,
      { prompt: 'a', samples: 20 },
      { 'x-api-key': KEY },
    )
    expect(((await segmind.json()) as { error: string }).error).toMatch(/^samples: /)
    const runpod = await postJson(
      `${server.url}/v2/chroma/runsync`,
      { input: { prompt: 'a', num_images: 20 } },
      BEARER,
    )
    expect(((await runpod.json()) as { error: string }).error).toMatch(/^num_images: /)
  })
})

describe('with --metrics-auth --docs-auth', () => {
  let server: ServerProcess
  beforeAll(async () => {
    server = await startServer([
      '--data-dir',
      tempDir('agreement-closed'),
      '--api-key',
      KEY,
      '--metrics-auth',
      '--docs-auth',
      '--no-bundled-models',
    ])
  })
  afterAll(async () => {
    await server?.stop()
  })

  it('/metrics, /docs and /openapi.json need the key', async () => {
    for (const path of ['/metrics', '/docs/', '/openapi.json', '/docs/json']) {
      expect((await fetch(`${server.url}${path}`)).status, path).toBe(401)
      expect((await fetch(`${server.url}${path}`, { headers: BEARER })).status, path).toBe(200)
    }
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200)
  })
})

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((path) => existsSync(path))

describe.skipIf(CHROMIUM === undefined)('/docs in headless Chromium', () => {
  let server: ServerProcess
  beforeAll(async () => {
    server = await startServer(['--data-dir', tempDir('agreement-docs'), '--no-bundled-models'])
  })
  afterAll(async () => {
    await server?.stop()
  })

  it('renders the operations with no console message (no CSP violation)', () => {
    const run = spawnSync(
      CHROMIUM!,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        `--user-data-dir=${tempDir('chromium')}`,
        '--enable-logging=stderr',
        '--v=0',
        '--virtual-time-budget=8000',
        '--dump-dom',
        `${server.url}/docs/`,
      ],
      { encoding: 'utf8', timeout: 60_000 },
    )
    const console = run.stderr.split('\n').filter((line) => line.includes(':CONSOLE'))
    expect(console).toEqual([])
    expect(run.stdout).toContain('opblock-tag')
  })
})
