/**
 * Asset records: one per stored image, written by the worker and read by the API. The bytes live in a
 * BlobStore under `key`; deleting a record here never touches the bytes (the caller deletes both).
 * @module
 */
import type { Kysely } from 'kysely'
import type { Asset } from '../core/job.js'
import { newestFirst, type PageRequest, readPage } from './cursor.js'
import type { AssetRow, Database } from './schema.js'

export interface AssetFilter {
  /** Only this owner's assets (null = submitted with auth off); undefined = all owners. */
  readonly ownerKeyId?: string | null
  readonly jobId?: string
  readonly createdAfter?: Date
  readonly createdBefore?: Date
}

export interface AssetPage {
  readonly assets: readonly Asset[]
  readonly nextCursor: string | null
}

function rowToAsset(row: AssetRow): Asset {
  return {
    id: row.id,
    jobId: row.job_id,
    ownerKeyId: row.owner_key_id,
    key: row.storage_key,
    index: row.image_index,
    model: row.model,
    seed: row.seed,
    width: row.width,
    height: row.height,
    format: row.format as Asset['format'],
    bytes: row.bytes,
    sha256: row.sha256,
    parameters: JSON.parse(row.parameters) as Record<string, unknown>,
    createdAt: new Date(row.created_at),
    expiresAt: row.expires_at === null ? null : new Date(row.expires_at),
  }
}

function assetToRow(asset: Asset): AssetRow {
  return {
    id: asset.id,
    job_id: asset.jobId,
    owner_key_id: asset.ownerKeyId,
    storage_key: asset.key,
    image_index: asset.index,
    model: asset.model,
    seed: asset.seed,
    width: asset.width,
    height: asset.height,
    format: asset.format,
    bytes: asset.bytes,
    sha256: asset.sha256,
    parameters: JSON.stringify(asset.parameters),
    created_at: asset.createdAt.getTime(),
    expires_at: asset.expiresAt === null ? null : asset.expiresAt.getTime(),
  }
}

export class AssetsRepo {
  readonly #db: Kysely<Database>

  constructor(db: Kysely<Database>) {
    this.#db = db
  }

  async create(asset: Asset): Promise<Asset> {
    await this.#db.insertInto('assets').values(assetToRow(asset)).execute()
    return asset
  }

  async get(id: string): Promise<Asset | null> {
    const row = await this.#db.selectFrom('assets').selectAll().where('id', '=', id).executeTakeFirst()
    return row === undefined ? null : rowToAsset(row)
  }

  /** The records that exist among `ids`, in no particular order. */
  async getMany(ids: readonly string[]): Promise<Asset[]> {
    if (ids.length === 0) return []
    const rows = await this.#db.selectFrom('assets').selectAll().where('id', 'in', ids).execute()
    return rows.map(rowToAsset)
  }

  /** Aligns a finished job's assets with the job's own expiry. */
  async setExpiryForJob(jobId: string, expiresAt: Date | null): Promise<void> {
    await this.#db
      .updateTable('assets')
      .set({ expires_at: expiresAt === null ? null : expiresAt.getTime() })
      .where('job_id', '=', jobId)
      .execute()
  }

  /** A job's assets in image order. */
  async listByJob(jobId: string): Promise<Asset[]> {
    const rows = await this.#db
      .selectFrom('assets')
      .selectAll()
      .where('job_id', '=', jobId)
      .orderBy('image_index')
      .execute()
    return rows.map(rowToAsset)
  }

  /** Newest first; pass `nextCursor` back for the next page. */
  async list(filter: AssetFilter, page: PageRequest): Promise<AssetPage> {
    const { rows, nextCursor } = await readPage(page, (after, limit) =>
      newestFirst(this.#db.selectFrom('assets').selectAll(), filter, after, limit)
        .$if(filter.jobId !== undefined, (qb) => qb.where('job_id', '=', filter.jobId ?? ''))
        .execute(),
    )
    return { assets: rows.map(rowToAsset), nextCursor }
  }

  /** Assets whose own expiry passed (e.g. images left behind by a run that crashed), oldest first. */
  async listExpired(now: Date, limit = 500): Promise<Asset[]> {
    const rows = await this.#db
      .selectFrom('assets')
      .selectAll()
      .where('expires_at', '<=', now.getTime())
      .orderBy('expires_at')
      .limit(limit)
      .execute()
    return rows.map(rowToAsset)
  }

  /** Deletes the records and returns those that existed (their keys tell the caller which bytes to delete). */
  async deleteMany(ids: readonly string[]): Promise<Asset[]> {
    if (ids.length === 0) return []
    const rows = await this.#db.deleteFrom('assets').where('id', 'in', ids).returningAll().execute()
    return rows.map(rowToAsset)
  }

  async delete(id: string): Promise<Asset | null> {
    return (await this.deleteMany([id]))[0] ?? null
  }
}
