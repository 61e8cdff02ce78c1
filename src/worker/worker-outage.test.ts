import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { AssetsRepo } from '../db/assets-repo.js'
import { type DatabaseHandle, openDatabase } from '../db/connect.js'
import { DbQueue } from '../jobs/db-queue.js'
import { sampleRequest } from '../jobs/test-requests.js'
import { LocalStore } from '../storage/local-store.js'
import { FakePipeline } from './fake-pipeline.js'
import { Worker } from './worker.js'

const open: { handle: DatabaseHandle; queue: DbQueue; worker: Worker; root: string }[] = []

afterEach(async () => {
  for (const { handle, queue, worker, root } of open.splice(0)) {
    await worker.stop({ graceMs: 0 })
    await queue.close()
    await handle.close()
    rmSync(root, { recursive: true, force: true })
  }
})

describe('Worker during an outage of the records database', () => {
  it('stops claiming, logs the outage once rather than per retry, and runs jobs again once it answers', async () => {
    const handle = await openDatabase('sqlite::memory:')
    const queue = new DbQueue(handle, { retryBackoffMs: 0, finishPollMs: 5 })
    let down = true
    let claimsWhileDown = 0
    const refused = () =>
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })
    const consumer = new Proxy(queue, {
      get(target, property) {
        if (property === 'claim') {
          return async (...args: Parameters<DbQueue['claim']>) => {
            if (!down) return target.claim(...args)
            claimsWhileDown++
            throw refused()
          }
        }
        const value: unknown = Reflect.get(target, property, target)
        return typeof value === 'function' ? value.bind(target) : value
      },
    })
    const root = mkdtempSync(join(tmpdir(), 'pigment-worker-outage-'))
    const lines: { level: string; msg: string }[] = []
    const log = (level: string) => (_fields: object, msg: string) => lines.push({ level, msg })
    const worker = new Worker({
      queue: consumer,
      store: new LocalStore({
        root,
        secret: 'outage-test-secret-0123456789',
        publicBaseUrl: 'http://x',
      }),
      assets: new AssetsRepo(handle.db),
      pipelines: { acquire: async () => ({ pipeline: new FakePipeline(), release() {} }) },
      pollMs: 5,
      logger: { info: log('info'), warn: log('warn'), error: log('error') },
      probeRecords: async () => {
        if (down) throw refused()
      },
    })
    open.push({ handle, queue, worker, root })
    await worker.start()
    const job = await queue.enqueue(sampleRequest())
    await new Promise((resolve) => setTimeout(resolve, 300))
    const claimsDuringOutage = claimsWhileDown
    down = false
    const done = await queue.waitUntilFinished(job.id, 20_000)
    expect(done?.state).toBe('succeeded')
    // one claim met the outage; the probe, not the claim loop, found out when it ended
    expect(claimsDuringOutage).toBe(1)
    expect(lines.filter((line) => line.level !== 'info')).toEqual([
      {
        level: 'warn',
        msg: 'records database unreachable: taking no new jobs, retrying with backoff until it answers',
      },
    ])
    expect(lines.filter((line) => /reachable again/.test(line.msg))).toHaveLength(1)
  })
})
