/**
 * RunPod's webhook and execution policy across process deaths, on the real server (child process, SQLite and
 * local disk in a temp dir, the tiny test model): a job accepted with a webhook before `kill -9` has its
 * final status POSTed exactly once after the restart; a receiver that is down at first gets it from a retry,
 * also one due across a restart; a `policy.ttl` still stops a job after a restart, when it falls due.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  makeTestModel,
  postJson,
  type ServerProcess,
  startServer,
  tempDir,
} from '../integration/server-harness.js'
import { API_KEY, download, imageInfo } from './support.js'

const headers = { authorization: API_KEY }
/** Several seconds on the CPU: still running when the server is killed. */
const slow = { prompt: 'interrupted', size: '512x512', steps: 150 }
const small = { prompt: 'a red cube', size: '64x64', steps: 2 }
/** The server's sweep period (5 s) with a margin: long enough for a duplicate to have shown up. */
const SETTLE_MS = 7_000

let model: string
const servers: ServerProcess[] = []
const receivers: Receiver[] = []

beforeAll(async () => {
  model = await makeTestModel('tiny-sd')
})

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.stop('SIGKILL')))
  await Promise.all(receivers.splice(0).map((receiver) => receiver.close()))
})

async function start(dataDir: string, extra: readonly string[] = []): Promise<ServerProcess> {
  const server = await startServer([
    '--data-dir',
    dataDir,
    '--model',
    model,
    '--api-key',
    API_KEY,
    '--alias',
    'chroma=tiny-sd',
    // the webhook receivers listen on loopback, which a webhook reaches only when allowed
    '--webhook-allow',
    '127.0.0.1',
    ...extra,
  ])
  servers.push(server)
  return server
}

interface Receiver {
  readonly url: string
  readonly bodies: Record<string, unknown>[]
  close(): Promise<void>
}

/** A webhook receiver on `port` (0 = any free port) that records every body it is sent. */
async function receiver(port = 0): Promise<Receiver> {
  const bodies: Record<string, unknown>[] = []
  const server: Server = createServer(async (request, response) => {
    let text = ''
    for await (const chunk of request) text += chunk
    bodies.push(JSON.parse(text))
    response.end()
  })
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  const made: Receiver = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    bodies,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
  receivers.push(made)
  return made
}

/** A port nothing listens on (taken, then released). */
async function freePort(): Promise<number> {
  const probe = createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const { port } = probe.address() as AddressInfo
  await new Promise((resolve) => probe.close(resolve))
  return port
}

async function run(server: ServerProcess, body: object): Promise<string> {
  const response = await postJson(`${server.url}/v2/chroma/run`, body, headers)
  expect(response.status).toBe(200)
  return ((await response.json()) as { id: string }).id
}

async function status(server: ServerProcess, id: string): Promise<Record<string, unknown>> {
  const response = await fetch(`${server.url}/v2/chroma/status/${id}`, { headers })
  return (await response.json()) as Record<string, unknown>
}

async function until(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('RunPod webhook and policy across a restart', () => {
  it('kill -9 while the job runs: after the restart the receiver gets exactly one delivery', async () => {
    const hook = await receiver()
    const dataDir = tempDir('runpod-restart')
    const first = await start(dataDir)
    const id = await run(first, { input: slow, webhook: hook.url })
    await until(async () => (await status(first, id)).status === 'IN_PROGRESS', 30_000, 'IN_PROGRESS')
    expect(await first.stop('SIGKILL')).toBe('SIGKILL')
    expect(hook.bodies).toEqual([])

    const second = await start(dataDir)
    await until(() => hook.bodies.length > 0, 120_000, 'the webhook')
    await sleep(SETTLE_MS)
    expect(hook.bodies).toHaveLength(1)
    const body = hook.bodies[0] as { output: { presigned_urls: string[] } }
    expect(body).toMatchObject({
      id,
      status: 'COMPLETED',
      delayTime: expect.any(Number),
      executionTime: expect.any(Number),
      output: { status: 'ok', count: 1, meta: { width: 512, height: 512, num_inference_steps: 150 } },
    })
    const image = await imageInfo(await download(body.output.presigned_urls[0]))
    expect(image).toMatchObject({ format: 'png', width: 512, height: 512 })
    expect(await status(second, id)).toMatchObject({ id, status: 'COMPLETED' })
  })

  it('a receiver that is down at first gets the delivery from a retry, once it is back', async () => {
    const port = await freePort()
    const server = await start(tempDir('runpod-retry'))
    const id = await run(server, { input: small, webhook: `http://127.0.0.1:${port}/hook` })
    await until(async () => (await status(server, id)).status === 'COMPLETED', 30_000, 'COMPLETED')
    // the first attempt was refused; the receiver comes up before the retry (RunPod's 10 s later)
    const hook = await receiver(port)
    await until(() => hook.bodies.length > 0, 30_000, 'the retried webhook')
    await sleep(SETTLE_MS)
    expect(hook.bodies).toEqual([expect.objectContaining({ id, status: 'COMPLETED' })])
    expect(server.logs).toContainEqual(
      expect.objectContaining({ msg: 'runpod: webhook delivered', jobId: id, attempts: 2 }),
    )
  })

  it('a retry that falls due while the server is down is made after the restart', async () => {
    const port = await freePort()
    const dataDir = tempDir('runpod-retry-restart')
    const first = await start(dataDir)
    const id = await run(first, { input: small, webhook: `http://127.0.0.1:${port}/hook` })
    await until(async () => (await status(first, id)).status === 'COMPLETED', 30_000, 'COMPLETED')
    await sleep(500)
    expect(await first.stop('SIGKILL')).toBe('SIGKILL')
    const hook = await receiver(port)

    const second = await start(dataDir)
    await until(() => hook.bodies.length > 0, 30_000, 'the resumed webhook')
    await sleep(SETTLE_MS)
    expect(hook.bodies).toEqual([expect.objectContaining({ id, status: 'COMPLETED' })])
    expect(second.logs).toContainEqual(
      expect.objectContaining({ msg: 'runpod: webhook delivered', jobId: id, attempts: 2 }),
    )
  })

  it('policy.ttl is enforced after a restart: the job ends TIMED_OUT when its ttl runs out', async () => {
    const hook = await receiver()
    const dataDir = tempDir('runpod-ttl')
    // no workers: the job stays queued until its ttl stops it
    const first = await start(dataDir, ['--workers', '0'])
    const ttl = 6_000
    const submittedAt = Date.now()
    const id = await run(first, { input: small, webhook: hook.url, policy: { ttl } })
    expect(await first.stop('SIGKILL')).toBe('SIGKILL')

    const second = await start(dataDir, ['--workers', '0'])
    if (Date.now() < submittedAt + ttl - 500) expect((await status(second, id)).status).toBe('IN_QUEUE')
    await until(async () => (await status(second, id)).status === 'TIMED_OUT', 30_000, 'TIMED_OUT')
    expect(Date.now()).toBeGreaterThanOrEqual(submittedAt + ttl)
    await until(() => hook.bodies.length > 0, 15_000, 'the webhook')
    expect(hook.bodies).toEqual([
      expect.objectContaining({ id, status: 'TIMED_OUT', error: expect.any(String) }),
    ])
  })
})
