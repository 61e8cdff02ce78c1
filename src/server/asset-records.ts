/**
 * The API's view of asset records over the database repository: deleting an asset removes its bytes
 * from the store as well as its record.
 * @module
 */
import type { AssetRecords } from '../api/shared/deps.js'
import type { Asset } from '../core/job.js'
import type { AssetsRepo } from '../db/assets-repo.js'
import type { BlobStore } from '../storage/blob-store.js'

export function assetRecords(repo: AssetsRepo, storage: BlobStore): AssetRecords {
  return {
    get: (id) => repo.get(id),
    async listForJob(job) {
      const found = new Map((await repo.getMany(job.assetIds)).map((asset) => [asset.id, asset]))
      return job.assetIds.flatMap((id) => found.get(id) ?? [])
    },
    list: (filter, page) => repo.list(filter, page),
    async delete(id: string): Promise<Asset | null> {
      const asset = await repo.delete(id)
      if (asset !== null) await storage.delete(asset.key)
      return asset
    },
  }
}
