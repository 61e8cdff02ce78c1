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

/** An API key: the public id, and a hash of its secret (never the secret itself). */
export interface ApiKeysTable {
  id: string
  name: string
  /** 'admin' | 'user' */
  role: string
  /** SHA-256 of the secret, hex. */
  secret_hash: string
  created_at: number
  last_used_at: number | null
  expires_at: number | null
  revoked_at: number | null
  /** Balance in milli-credits; null = unlimited. */
  credits_milli: number | null
  /** Requests per minute; null = unlimited. */
  rpm: number | null
  /** Queued + running jobs at once; null = unlimited. */
  concurrency: number | null
  /** Charges reserved and not yet settled (what `concurrency` limits). */
  active_jobs: number
}

/** One submitted job's credits: reserved at submit, settled or refunded when the job ends. */
export interface CreditChargesTable {
  id: string
  /** Null when auth is off. */
  key_id: string | null
  /** Null until the job is queued (and for a submission the queue refused). */
  job_id: string | null
  model: string
  /** 'reserved' | 'settled' | 'refunded' */
  state: string
  reserved_milli: number
  charged_milli: number
  /** 1 when the reservation came off the key's balance (so a refund goes back to it). */
  debited: number
  /** 1 when the reservation counts in the key's `active_jobs`. */
  counted: number
  /** 'succeeded' | 'failed' | 'canceled' | 'rejected' | 'lost'; null while reserved. */
  outcome: string | null
  images: number
  /** width × height × steps summed over the images made. */
  pixel_steps: number
  created_at: number
  finished_at: number | null
}

/** Every change to a key's balance; the sum of a key's entries is its balance. */
export interface CreditLedgerTable {
  id: string
  key_id: string
  charge_id: string | null
  /** 'grant' | 'adjust' | 'reserve' | 'settle' | 'refund' */
  kind: string
  /** Signed: negative takes credits off the balance. */
  amount_milli: number
  created_at: number
}

/**
 * The RunPod dialect's promises about one job (webhook, ttl, execution timeout) and its webhook's delivery.
 * Only jobs submitted with one of them have a row.
 */
export interface RunPodJobsTable {
  job_id: string
  /** 'open' (job not finished) | 'delivering' (finished, webhook not settled) | 'closed' */
  state: string
  webhook: string | null
  /** Epoch ms after which a job not finished is stopped (submission + `policy.ttl`). */
  ttl_deadline: number | null
  /** `policy.executionTimeout`: the longest one run may take, counted from its start. */
  execution_timeout_ms: number | null
  /** 1 once the dialect stopped the job for its policy (it reads TIMED_OUT). */
  timed_out: number
  /** The body to POST as JSON, for jobs that never entered the queue; null = render it from the job. */
  payload: string | null
  /** Delivery attempts begun (counted when claimed, so an attempt cut short by a crash counts). */
  attempts: number
  /** A delivering row is not claimed before this time (the retry delay). */
  next_attempt_at: number | null
  /** The process delivering it now, until `lease_until`. */
  lease_owner: string | null
  lease_until: number | null
  /** 'delivered' | 'gave-up' once the webhook is settled; null otherwise. */
  outcome: string | null
  last_error: string | null
  created_at: number
  closed_at: number | null
}

export interface IdempotencyKeysTable {
  /** The API key id the Idempotency-Key belongs to; '' for requests made with auth off. */
  scope: string
  key: string
  /** SHA-256 of the request (route, parameters, body): the same key with another request is refused. */
  fingerprint: string
  /** The job the first request made; null while that request is still being accepted. */
  job_id: string | null
  created_at: number
  /** After this (epoch ms) the record may be removed, once its job has expired too. */
  expires_at: number
}

export interface Database {
  jobs: JobsTable
  assets: AssetsTable
  api_keys: ApiKeysTable
  credit_charges: CreditChargesTable
  credit_ledger: CreditLedgerTable
  runpod_jobs: RunPodJobsTable
  idempotency_keys: IdempotencyKeysTable
}

export type JobRow = JobsTable
export type AssetRow = AssetsTable
export type ApiKeyRow = ApiKeysTable
export type CreditChargeRow = CreditChargesTable
export type RunPodJobRow = RunPodJobsTable
