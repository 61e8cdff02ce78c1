import { afterAll, describe } from 'vitest'
import type { DatabaseHandle } from '../db/connect.js'
import { clearTables, openTestDatabase, testDialects } from '../db/test-databases.js'
import { DbQueue } from './db-queue.js'
import { describeJobQueueContract } from './job-queue.contract.js'

for (const target of await testDialects()) {
  describe.skipIf(!target.available)(target.title, () => {
    let shared: DatabaseHandle | undefined
    afterAll(async () => {
      await shared?.close()
    })

    describeJobQueueContract(`db-queue on ${target.dialect}`, async (options) => {
      shared ??= await openTestDatabase(target.dialect)
      const handle = shared
      await clearTables(handle)
      // each run is the only process using the records, so a restart finds the orphans at once
      const open = () => new DbQueue(handle, { ...options, exclusive: true, finishPollMs: 5 })
      const queues = [open()]
      return {
        queue: queues[0],
        async restart() {
          const next = open()
          queues.push(next)
          return next
        },
        async close() {
          for (const queue of queues) await queue.close()
        },
      }
    })
  })
}
