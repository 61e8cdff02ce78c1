import { afterAll, beforeEach, describe, expect, it } from 'vitest'
import { isPigmentError } from '../core/errors.js'
import { newId } from '../core/ids.js'
import type { Asset } from '../core/job.js'
import { AssetsRepo } from './assets-repo.js'
import type { DatabaseHandle } from './connect.js'
import { clearTables, openTestDatabase, testDialects } from './test-databases.js'

const T0 = Date.UTC(2026, 4, 6, 7, 8, 9)

function asset(overrides: Partial<Asset> = {}): Asset {
  return {
    id: newId(),
    jobId: 'job-1',
    ownerKeyId: null,
    key: 'outputs/2026/05/06/070809/job-1_0.png',
    index: 0,
    model: 'tiny-sd',
    seed: 2 ** 40 + 7, // seeds go past 32 bits
    width: 64,
    height: 48,
    format: 'png',
    bytes: 1234,
    sha256: 'ab'.repeat(32),
    parameters: { prompt: 'fox', steps: 4 },
    createdAt: new Date(T0),
    expiresAt: new Date(T0 + 3_600_000),
    ...overrides,
  }
}

for (const target of await testDialects()) {
  describe.skipIf(!target.available)(`AssetsRepo on ${target.title}`, () => {
    let handle: DatabaseHandle
    let repo: AssetsRepo
    beforeEach(async () => {
      handle ??= await openTestDatabase(target.dialect)
      await clearTables(handle)
      repo = new AssetsRepo(handle.db)
    })
    afterAll(async () => {
      await handle?.close()
    })

    it('stores and reads back every field', async () => {
      const made = asset()
      await repo.create(made)
      expect(await repo.get(made.id)).toEqual(made)
      expect(await repo.get('missing')).toBeNull()
    })

    it('lists a job’s assets in image order', async () => {
      const second = asset({ index: 1, key: 'k/1.png' })
      const first = asset({ index: 0, key: 'k/0.png' })
      await repo.create(second)
      await repo.create(first)
      await repo.create(asset({ jobId: 'job-2' }))
      expect((await repo.listByJob('job-1')).map((a) => a.index)).toEqual([0, 1])
    })

    it('pages newest first and filters by owner, job and time', async () => {
      const made: Asset[] = []
      for (let i = 0; i < 5; i++) {
        const a = asset({ createdAt: new Date(T0 + i * 1000), ownerKeyId: i % 2 === 0 ? 'key-a' : null })
        made.push(await repo.create(a))
      }
      const one = await repo.list({}, { limit: 3 })
      expect(one.assets.map((a) => a.id)).toEqual([made[4].id, made[3].id, made[2].id])
      const two = await repo.list({}, { limit: 3, cursor: one.nextCursor })
      expect(two.assets.map((a) => a.id)).toEqual([made[1].id, made[0].id])
      expect(two.nextCursor).toBeNull()
      expect((await repo.list({ ownerKeyId: 'key-a' }, { limit: 10 })).assets).toHaveLength(3)
      expect((await repo.list({ ownerKeyId: null }, { limit: 10 })).assets).toHaveLength(2)
      expect((await repo.list({ jobId: 'other' }, { limit: 10 })).assets).toHaveLength(0)
      const window = await repo.list(
        { createdAfter: new Date(T0), createdBefore: new Date(T0 + 3000) },
        { limit: 10 },
      )
      expect(window.assets.map((a) => a.id)).toEqual([made[2].id, made[1].id])
      const bad = await repo.list({}, { limit: 0 }).catch((e: unknown) => e)
      expect(isPigmentError(bad, 'VALIDATION_FAILED')).toBe(true)
    })

    it('pages through rows made in the same millisecond by id, none skipped or repeated', async () => {
      const ids: string[] = []
      for (let i = 0; i < 5; i++) ids.push((await repo.create(asset({ index: i }))).id)
      const seen: string[] = []
      let cursor: string | null = null
      do {
        const page = await repo.list({}, { limit: 2, cursor })
        seen.push(...page.assets.map((a) => a.id))
        cursor = page.nextCursor
      } while (cursor !== null)
      expect(seen).toEqual([...ids].sort().reverse())
    })

    it('reads several at once and moves a job’s expiry', async () => {
      const a = await repo.create(asset({ index: 0 }))
      const b = await repo.create(asset({ index: 1 }))
      const other = await repo.create(asset({ jobId: 'job-2' }))
      expect((await repo.getMany([b.id, a.id, 'missing'])).map((x) => x.id).sort()).toEqual(
        [a.id, b.id].sort(),
      )
      await repo.setExpiryForJob('job-1', new Date(T0 + 5))
      expect((await repo.get(a.id))?.expiresAt).toEqual(new Date(T0 + 5))
      expect((await repo.get(other.id))?.expiresAt).toEqual(other.expiresAt)
    })

    it('finds expired assets and deletes records, returning what existed', async () => {
      const old = await repo.create(asset({ expiresAt: new Date(T0) }))
      const fresh = await repo.create(asset({ expiresAt: new Date(T0 + 10_000) }))
      const forever = await repo.create(asset({ expiresAt: null }))
      expect((await repo.listExpired(new Date(T0 + 1))).map((a) => a.id)).toEqual([old.id])
      const deleted = await repo.deleteMany([old.id, 'missing'])
      expect(deleted.map((a) => a.key)).toEqual([old.key])
      expect(await repo.delete(fresh.id)).toEqual(fresh)
      expect(await repo.delete(fresh.id)).toBeNull()
      expect(await repo.get(forever.id)).toEqual(forever)
    })
  })
}
