import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { LocalFleet } from '../../src/fleet/local-fleet.js'
import {
  FleetRecords,
  SKIP_REASON,
  servicesUp,
  sleep,
  startTestFleet,
  submit,
  submitMany,
} from './fleet-helpers.js'
import { startPostgres, startRedis, stopPostgres, stopRedis } from './outages.js'

describe.skipIf(!servicesUp)(
  servicesUp ? 'fleet under outages (restarts Redis, stops Postgres)' : SKIP_REASON,
  () => {
    let fleet: LocalFleet

    beforeAll(async () => {
      fleet = await startTestFleet(2, 2)
    }, 420_000)

    afterAll(async () => {
      await fleet?.stop()
    })

    it('recovers from a Redis restart without persistence: every accepted job finishes once', async () => {
      const before = await submitMany(fleet, 30, { steps: 10 })
      const accepted = [...before]
      await sleep(300)
      try {
        stopRedis()
        // the record is in Postgres, so a submission during the outage is accepted and dispatched later
        for (let i = 0; i < 4; i++)
          accepted.push(await submit(fleet.urls[i % 2], { steps: 2, seed: 1000 + i }))
      } finally {
        await startRedis()
      }
      const records = await FleetRecords.open(fleet.databaseUrl)
      try {
        const ids = accepted.map((job) => job.id)
        const rows = await records.waitFinished(ids, 150_000)
        expect(rows.filter((row) => row.state !== 'succeeded')).toEqual([])
        const assets = await records.assetsOf(ids)
        expect(assets).toHaveLength(ids.length)
        expect(new Set(assets.map((asset) => asset.job_id)).size).toBe(ids.length)
      } finally {
        await records.close()
      }
    }, 240_000)

    it('answers 503 while Postgres is stopped, then recovers and runs jobs again', async () => {
      const [api] = fleet.urls
      let during: { ready: number; submit: number; retryAfter: string | null }
      try {
        stopPostgres()
        const ready = await fetch(`${api}/readyz`)
        const refused = await fetch(`${api}/api/generations`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ prompt: 'x', width: 64, height: 64, steps: 2, async: true }),
        })
        during = {
          ready: ready.status,
          submit: refused.status,
          retryAfter: refused.headers.get('retry-after'),
        }
      } finally {
        await startPostgres()
      }
      expect(during).toMatchObject({ ready: 503, submit: 503 })
      expect(during.retryAfter).not.toBeNull()
      const deadline = Date.now() + 60_000
      while ((await fetch(`${api}/readyz`)).status !== 200) {
        if (Date.now() > deadline) throw new Error('API not ready 60 s after Postgres came back')
        await sleep(250)
      }
      const job = await submit(api, { steps: 2 })
      const records = await FleetRecords.open(fleet.databaseUrl)
      try {
        const [row] = await records.waitFinished([job.id], 90_000)
        expect(row.state).toBe('succeeded')
      } finally {
        await records.close()
      }
    }, 240_000)
  },
)
