import { afterEach, describe, expect, it } from 'vitest'
import { PigmentMetrics } from '../api/shared/pigment-metrics.js'
import type { DatabaseHandle } from '../db/connect.js'
import { openTestDatabase } from '../db/test-databases.js'
import { DbQueue } from '../jobs/db-queue.js'
import { sampleRequest } from '../jobs/test-requests.js'
import { instrumentQueue } from './instrumented-queue.js'

describe('instrumentQueue', () => {
  let handle: DatabaseHandle | undefined
  afterEach(async () => {
    await handle?.close()
  })

  it('times runs claimed by id, as fleet workers claim them', async () => {
    handle = await openTestDatabase('sqlite')
    const base = new DbQueue(handle)
    const metrics = new PigmentMetrics()
    const queue = instrumentQueue(base, metrics) as ReturnType<typeof instrumentQueue> &
      Pick<DbQueue, 'claimJob'>
    const job = await queue.enqueue(sampleRequest())
    const claimed = await queue.claimJob(job.id, 'worker-1')
    expect(claimed).not.toBeNull()
    await queue.complete(job.id, claimed?.lease ?? '', [])
    const text = await metrics.render()
    expect(text).toContain('pigment_job_queue_wait_seconds_count 1')
    expect(text).toContain('pigment_job_duration_seconds_count{outcome="succeeded"} 1')
    expect(text).toContain('pigment_jobs_finished_total{state="succeeded"} 1')
    await base.close()
  })

  it('adds no claimJob to a queue that has none', () => {
    const metrics = new PigmentMetrics()
    const bare = { claim: async () => null } as unknown as Parameters<typeof instrumentQueue>[0]
    expect((instrumentQueue(bare, metrics) as { claimJob?: unknown }).claimJob).toBeUndefined()
  })
})
