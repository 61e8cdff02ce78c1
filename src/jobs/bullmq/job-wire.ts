/**
 * Job events as they travel between processes (Redis pub/sub): JSON with the dates as epoch milliseconds,
 * revived into the same `JobEvent` the in-process bus carries.
 * @module
 */
import type { Job } from '../../core/job.js'
import type { JobEvent } from '../job-queue.js'

const DATE_FIELDS = ['createdAt', 'startedAt', 'finishedAt', 'expiresAt'] as const

export function encodeEvent(event: JobEvent): string {
  return JSON.stringify(event)
}

/** Parses a relayed event; null for anything that is not one (another writer on the channel). */
export function decodeEvent(text: string): JobEvent | null {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    return null
  }
  if (typeof parsed !== 'object' || parsed === null) return null
  const event = parsed as { seq?: unknown; type?: unknown; job?: Record<string, unknown> }
  if (typeof event.seq !== 'number' || typeof event.type !== 'string' || typeof event.job !== 'object')
    return null
  const job: Record<string, unknown> = { ...event.job }
  for (const field of DATE_FIELDS) {
    const value = job[field]
    job[field] = typeof value === 'string' ? new Date(value) : null
  }
  return { ...(parsed as JobEvent), job: job as unknown as Job }
}
