/**
 * Safe defaults against the real `pigment serve`: a server on a network address with no key refuses to
 * start (unless `--insecure`), starts once a key exists and then demands it; request limits (body size,
 * pixels, steps, images) are configurable and enforced; the ComfyUI passthrough is off; and fuzzed auth
 * headers sent as raw bytes over a socket get 400/401 (431 from Node's parser for headers past its 16 KiB
 * limit), never a 500, with the server still serving afterwards.
 */
import { connect } from 'node:net'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDatabase } from '../../src/db/connect.js'
import { KeyStore } from '../../src/keys/key-store.js'
import { call, runCli, SMALL } from './auth-helpers.js'
import { makeTestModel, type ServerProcess, startServer, tempDir } from './server-harness.js'

let model: string
let open: ServerProcess
let guarded: ServerProcess
let token: string

beforeAll(async () => {
  model = await makeTestModel()
  open = await startServer([
    ...['--host', '0.0.0.0', '--insecure', '--data-dir', tempDir('auth-open'), '--model', model],
    ...['--body-limit', '2kb', '--max-pixels', '16384', '--max-steps', '10', '--max-images', '2'],
  ])
  const dataDir = tempDir('auth-guarded')
  const database = await openDatabase(`sqlite://${join(dataDir, 'pigment.db')}`)
  token = (await new KeyStore(database).create({ name: 'ops', role: 'admin' })).token
  await database.close()
  guarded = await startServer(['--host', '0.0.0.0', '--data-dir', dataDir, '--model', model])
}, 300_000)

afterAll(async () => {
  await open?.stop()
  await guarded?.stop()
})

describe('exposure', () => {
  it('refuses to listen on a network address with no key, naming the ways out', async () => {
    const result = await runCli([
      'serve',
      '--host',
      '0.0.0.0',
      '--port',
      '0',
      '--data-dir',
      tempDir('auth-refuse'),
    ])
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/refusing to listen on 0\.0\.0\.0 with no API key/)
    expect(result.stderr).toMatch(/pigment keys create/)
    expect(result.stderr).toMatch(/--insecure/)
  }, 150_000)

  it('serves without keys when told --insecure', async () => {
    expect((await call('GET', `${open.url}/api/jobs`)).status).toBe(200)
  })

  it('starts on a network address once a key exists, and then demands it', async () => {
    expect((await call('GET', `${guarded.url}/api/jobs`)).status).toBe(401)
    const answer = await call('GET', `${guarded.url}/api/jobs`, {
      headers: { authorization: `Bearer ${token}` },
    })
    expect(answer.status).toBe(200)
  })
})

describe('request limits from the configuration', () => {
  const generate = (body: Record<string, unknown>) =>
    call('POST', `${open.url}/api/generations`, { json: { prompt: 'a fox', ...SMALL, async: true, ...body } })

  it.each([
    ['a body over --body-limit', { prompt: 'x'.repeat(3000) }, 413, /larger than the server accepts/],
    ['more pixels than --max-pixels', { width: 256, height: 256 }, 400, /width|height|pixels/],
    ['more steps than --max-steps', { steps: 11 }, 400, /steps/],
    ['more images than --max-images', { n: 3 }, 400, /\bn\b/],
  ])('%s is refused with %i', async (_name, body, status, message) => {
    const answer = await generate(body)
    expect(answer.status).toBe(status)
    expect(JSON.stringify(answer.body)).toMatch(message)
  })

  it('accepts what is within them', async () => {
    expect((await generate({ steps: 10, n: 2 })).status).toBe(202)
  })

  it('keeps the ComfyUI passthrough off, with a clear error', async () => {
    const answer = await call('POST', `${open.url}/v2/default/run`, {
      json: { input: { comfy: true, payload: {} } },
    })
    expect(answer.status).toBe(501)
    expect(JSON.stringify(answer.body)).toMatch(/ComfyUI passthrough is not available/)
  })
})

/** One raw HTTP/1.1 request with the given header bytes; resolves with the status code. */
function rawRequest(url: string, header: Buffer): Promise<number> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname)
    let answer = ''
    socket.setTimeout(30_000, () => socket.destroy(new Error('no answer')))
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString('latin1')
      const match = /^HTTP\/1\.1 (\d{3})/.exec(answer)
      if (match) {
        resolve(Number(match[1]))
        socket.destroy()
      }
    })
    socket.on('error', reject)
    socket.on('close', () =>
      reject(new Error(`connection closed without a status: ${JSON.stringify(answer)}`)),
    )
    socket.write(
      Buffer.concat([
        Buffer.from('GET /api/jobs HTTP/1.1\r\nHost: localhost\r\n', 'latin1'),
        header,
        Buffer.from('\r\nConnection: close\r\n\r\n', 'latin1'),
      ]),
    )
  })
}

describe('fuzzed auth headers over a real socket', () => {
  const names = fc.constantFrom(
    'Authorization: ',
    'Authorization: Bearer ',
    'Authorization: Basic ',
    'X-Api-Key: ',
  )
  const values = fc.oneof(
    fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
    fc.string({ unit: 'grapheme', maxLength: 80 }).map((text) => Buffer.from(text, 'utf8')),
    fc.string({ maxLength: 120 }).map((text) => Buffer.from(Buffer.from(text).toString('base64'), 'latin1')),
    fc.integer({ min: 5_000, max: 40_000 }).map((size) => Buffer.alloc(size, 'k')),
  )

  it('answers 400, 401 or 431, never a 500, and keeps serving', async () => {
    const seen = new Set<number>()
    await fc.assert(
      fc.asyncProperty(names, values, async (name, value) => {
        const status = await rawRequest(guarded.url, Buffer.concat([Buffer.from(name, 'latin1'), value]))
        seen.add(status)
        expect([400, 401, 431]).toContain(status)
      }),
      { numRuns: 60 },
    )
    expect(seen.has(401)).toBe(true)
    const answer = await call('GET', `${guarded.url}/api/jobs`, {
      headers: { authorization: `Bearer ${token}` },
    })
    expect(answer.status).toBe(200)
  }, 120_000)
})
