/**
 * Table shapes as Kysely sees them. The same columns exist on SQLite and Postgres: times are epoch
 * milliseconds in `bigint` columns (they sort, compare and subtract the same on both), JSON is stored as text,
 * and flags are 0/1 integers.
 * @module
 */

export interface JobsTable {
  id: string
  state: string
  /** The GenerationRequest, as JSON. */
  request: string
  priority: number
  attempts: number
  max_attempts: number
  /** JobProgress as JSON, or null before the first step. */
  progress: string | null
  error_code: string | null
  error_message: string | null
  /** Asset ids as a JSON array. */
  asset_ids: string
  owner_key_id: string | null
  model: string
  created_at: number
  started_at: number | null
  finished_at: number | null
  expires_at: number | null
  /** A queued job may not be claimed before this time (retry backoff). */
  available_at: number
  lease_token: string | null
  lease_expires_at: number | null
  worker_id: string | null
  /** The queue instance (process) that claimed the job; startup recovery requeues other instances' jobs. */
  instance_id: string | null
  cancel_requested: number
  /** The job's last event sequence number; every transition bumps it in the same statement. */
  seq: number
}

export interface AssetsTable {
  id: string
  job_id: string
  owner_key_id: string | null
  storage_key: string
  image_index: number
  model: string
  seed: number
  width: number
  height: number
  format: string
  bytes: number
  sha256: string
  /** Generation parameters as JSON. */
  parameters: string
  created_at: number
  expires_at: number | null
}

export interface Database {
  jobs: JobsTable
  assets: AssetsTable
}

export type JobRow = JobsTable
export type AssetRow = AssetsTable
