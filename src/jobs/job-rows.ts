/**
 * Converts between `jobs` rows and `Job` records.
 * @module
 */

import type { GenerationRequest } from '../core/generation-request.js'
import type { Job, JobProgress, JobState } from '../core/job.js'
import type { JobRow } from '../db/schema.js'

function dateOrNull(ms: number | null): Date | null {
  return ms === null ? null : new Date(ms)
}

export function rowToJob(row: JobRow): Job {
  return {
    id: row.id,
    state: row.state as JobState,
    request: JSON.parse(row.request) as GenerationRequest,
    priority: row.priority,
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    progress: row.progress === null ? null : (JSON.parse(row.progress) as JobProgress),
    error: row.error_code === null ? null : { code: row.error_code, message: row.error_message ?? '' },
    assetIds: JSON.parse(row.asset_ids) as string[],
    ownerKeyId: row.owner_key_id,
    createdAt: new Date(row.created_at),
    startedAt: dateOrNull(row.started_at),
    finishedAt: dateOrNull(row.finished_at),
    expiresAt: dateOrNull(row.expires_at),
    cancelRequested: row.cancel_requested === 1,
  }
}

export function newJobRow(id: string, request: GenerationRequest, maxAttempts: number, now: number): JobRow {
  return {
    id,
    state: 'queued',
    request: JSON.stringify(request),
    priority: request.priority,
    attempts: 0,
    max_attempts: maxAttempts,
    progress: null,
    error_code: null,
    error_message: null,
    asset_ids: '[]',
    owner_key_id: request.origin.keyId,
    model: request.model,
    created_at: now,
    started_at: null,
    finished_at: null,
    expires_at: null,
    available_at: now,
    lease_token: null,
    lease_expires_at: null,
    worker_id: null,
    instance_id: null,
    cancel_requested: 0,
    seq: 1,
  }
}
