/**
 * Durability of accepted work across process deaths: `kill -9` with jobs queued and running, and a
 * graceful SIGTERM with a job running (finished within the grace period, or requeued when the grace period
 * is too short). Every job ends succeeded after the restart; none is lost.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  type JobBody,
  makeTestModel,
  pollJob,
  postJson,
  type ServerProcess,
  startServer,
  tempDir,
} from './server-harness.js'

let model: string
const servers: ServerProcess[] = []
/** Several seconds of work (150 steps at 512×512), so a poll sees it running and a 0.2 s grace period cannot cover it. */
const slow = { width: 512, height: 512, steps: 150 }
const small = { width: 64, height: 64, steps: 4 }

beforeAll(async () => {
  model = await makeTestModel()
})

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.stop('SIGKILL')))
})

async function start(dataDir: string, extra: string[] = []): Promise<ServerProcess> {
  const server = await startServer(['--data-dir', dataDir, '--model', model, ...extra])
  servers.push(server)
  return server
}

async function submit(base: string, body: object): Promise<string> {
  const response = await postJson(`${base}/api/generations`, { ...body, async: true })
  expect(response.status).toBe(202)
  return ((await response.json()) as JobBody).id
}

describe('crash recovery', () => {
  it('after kill -9 with jobs running and queued, a restart on the same data dir finishes every one', async () => {
    const dataDir = tempDir('crash')
    const first = await start(dataDir)
    const running = await submit(first.url, { prompt: 'interrupted', ...slow })
    const queued = [
      await submit(first.url, { prompt: 'q1', ...small }),
      await submit(first.url, { prompt: 'q2', ...small }),
      await submit(first.url, { prompt: 'q3', ...small, n: 2 }),
    ]
    const seen = await pollJob(
      first.url,
      running,
      (job) => job.state === 'running' && (job.progress?.step ?? 0) >= 1,
    )
    expect(seen.state).toBe('running')
    expect(await first.stop('SIGKILL')).toBe('SIGKILL')

    const second = await start(dataDir)
    const resumed = await pollJob(second.url, running)
    expect(resumed.state).toBe('succeeded')
    expect(resumed.attempts).toBe(2)
    for (const id of queued) {
      const job = await pollJob(second.url, id)
      expect({ id, state: job.state }).toEqual({ id, state: 'succeeded' })
    }
    const all = (await (await fetch(`${second.url}/api/jobs?limit=100`)).json()) as { jobs: JobBody[] }
    expect(all.jobs.map((job) => job.state).sort()).toEqual(Array(4).fill('succeeded'))
    const image = (await pollJob(second.url, queued[2])).images[1]
    expect((await fetch(image.url)).status).toBe(200)
  })
})

describe('graceful shutdown', () => {
  it('on SIGTERM lets the running job finish, refuses new work, and exits 0', async () => {
    const dataDir = tempDir('graceful')
    const first = await start(dataDir, ['--grace', '120s'])
    const running = await submit(first.url, { prompt: 'finishing', ...slow })
    await pollJob(first.url, running, (job) => job.state === 'running')
    first.child.kill('SIGTERM')
    // While the job finishes, new work is turned away (connection refused, or 503 on a kept-alive socket).
    const accepted: string[] = []
    let refused = false
    while (!refused && first.child.exitCode === null) {
      const answer = await postJson(`${first.url}/api/generations`, {
        prompt: 'late',
        ...small,
        async: true,
      }).catch(() => null)
      if (answer === null || answer.status === 503) refused = true
      else if (answer.status === 202) accepted.push(((await answer.json()) as JobBody).id)
    }
    expect(refused).toBe(true)
    expect(await first.exited).toBe(0)
    expect(first.logs.some((line) => line.msg === 'shut down')).toBe(true)

    const second = await start(dataDir)
    const job = await pollJob(second.url, running, () => true)
    expect(job.state).toBe('succeeded')
    expect(job.attempts).toBe(1)
    for (const id of accepted) expect((await pollJob(second.url, id)).state).toBe('succeeded')
  })

  it('requeues a job that outlives the grace period, and it completes after the restart', async () => {
    const dataDir = tempDir('requeue')
    const first = await start(dataDir, ['--grace', '0.2s'])
    const running = await submit(first.url, { prompt: 'too long', ...slow })
    await pollJob(first.url, running, (job) => job.state === 'running' && (job.progress?.step ?? 0) >= 1)
    expect(await first.stop('SIGTERM')).toBe(0)

    const second = await start(dataDir)
    const queuedAgain = await fetch(`${second.url}/api/jobs/${running}`)
    expect(['queued', 'running', 'succeeded']).toContain(((await queuedAgain.json()) as JobBody).state)
    const done = await pollJob(second.url, running)
    expect(done.state).toBe('succeeded')
    expect(done.error).toBeNull()
  })
})
