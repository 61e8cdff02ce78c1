import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { newId } from '../core/ids.js'
import type { Asset } from '../core/job.js'
import { AssetsRepo } from '../db/assets-repo.js'
import { type DatabaseHandle, openDatabase } from '../db/connect.js'
import { DbQueue } from '../jobs/db-queue.js'
import { sampleRequest } from '../jobs/test-requests.js'
import { LocalStore } from '../storage/local-store.js'
import { startRetentionSweeper } from './retention-sweeper.js'

const RETENTION = 60_000
const T0 = Date.UTC(2026, 6, 1)

describe('startRetentionSweeper', () => {
  let now = T0
  let handle: DatabaseHandle
  let queue: DbQueue
  let assets: AssetsRepo
  let store: LocalStore
  let root: string

  beforeEach(async () => {
    now = T0
    handle = await openDatabase('sqlite::memory:')
    queue = new DbQueue(handle, { clock: () => now, retentionMs: RETENTION })
    assets = new AssetsRepo(handle.db)
    root = mkdtempSync(join(tmpdir(), 'pigment-sweep-'))
    store = new LocalStore({ root, secret: 'sweeper-test-secret-0123456789', publicBaseUrl: 'http://x' })
  })
  afterEach(async () => {
    await queue.close()
    await handle.close()
    rmSync(root, { recursive: true, force: true })
  })

  async function storedAsset(jobId: string, index: number, expiresAt: Date | null): Promise<Asset> {
    const key = `outputs/${jobId}_${index}.png`
    await store.put(key, new Uint8Array([index]), { contentType: 'image/png' })
    return assets.create({
      id: newId(now),
      jobId,
      ownerKeyId: null,
      key,
      index,
      model: 'tiny-sd',
      seed: index,
      width: 1,
      height: 1,
      format: 'png',
      bytes: 1,
      sha256: '00',
      parameters: {},
      createdAt: new Date(now),
      expiresAt,
    })
  }

  it('expires finished jobs after retention and deletes their images and records, and orphans too', async () => {
    const job = await queue.enqueue(sampleRequest({ n: 2 }))
    const claimed = await queue.claim('w')
    const made = [await storedAsset(job.id, 0, null), await storedAsset(job.id, 1, null)]
    const done = await queue.complete(
      job.id,
      claimed?.lease ?? '',
      made.map((a) => a.id),
    )
    await assets.setExpiryForJob(job.id, done.expiresAt)
    const orphan = await storedAsset('crashed', 0, new Date(T0 + RETENTION / 2))
    const keeper = await storedAsset('other', 0, null)

    const sweeper = startRetentionSweeper(queue, assets, store, 3_600_000, { clock: () => now })
    try {
      now = T0 + RETENTION - 1
      expect(await sweeper.sweep()).toEqual({ jobs: 0, assets: 1 }) // only the orphan is due
      expect(await store.get(orphan.key)).toBeNull()
      expect(await store.get(made[0].key)).not.toBeNull()

      now = T0 + RETENTION
      expect(await sweeper.sweep()).toEqual({ jobs: 1, assets: 2 })
      expect((await queue.get(job.id))?.state).toBe('expired')
      for (const asset of made) {
        expect(await store.get(asset.key)).toBeNull()
        expect(await assets.get(asset.id)).toBeNull()
      }
      expect(await assets.get(keeper.id)).not.toBeNull()
      expect(await sweeper.sweep()).toEqual({ jobs: 0, assets: 0 })
    } finally {
      sweeper.stop()
    }
  })
})
