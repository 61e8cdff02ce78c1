/**
 * Job records and their lifecycle. States are a union; transitions are verbs, each one atomic in the store.
 *
 *   queued ──claim──▶ running ──complete──▶ succeeded ──expire──▶ expired
 *     │                 │ ├──fail─────────▶ failed ─────expire──▶ expired
 *     │                 │ └──requeue (retry, lease lost, shutdown) ──▶ queued
 *     └──cancel──▶ canceled ◀──cancel──────┘
 * @module
 */
import type { GenerationRequest } from './generation-request.js'

export type JobState = 'queued' | 'running' | 'succeeded' | 'failed' | 'canceled' | 'expired'

export const TERMINAL_STATES: ReadonlySet<JobState> = new Set(['succeeded', 'failed', 'canceled', 'expired'])

export const TRANSITIONS: Readonly<Record<JobState, readonly JobState[]>> = {
  queued: ['running', 'canceled'],
  running: ['succeeded', 'failed', 'queued', 'canceled'],
  succeeded: ['expired'],
  failed: ['expired'],
  canceled: ['expired'],
  expired: [],
}

export function canTransition(from: JobState, to: JobState): boolean {
  return TRANSITIONS[from].includes(to)
}

export interface JobProgress {
  /** Zero-based index of the image being made, and how many. */
  readonly image: number
  readonly images: number
  /** Steps completed for the current image, and how many. */
  readonly step: number
  readonly steps: number
}

export interface JobError {
  readonly code: string
  readonly message: string
}

export interface Job {
  readonly id: string
  readonly state: JobState
  readonly request: GenerationRequest
  readonly priority: number
  readonly attempts: number
  readonly maxAttempts: number
  readonly progress: JobProgress | null
  readonly error: JobError | null
  /** Asset ids of the finished images, in image order. */
  readonly assetIds: readonly string[]
  /** Key that submitted the job (null when auth is off); owners see only their own jobs. */
  readonly ownerKeyId: string | null
  readonly createdAt: Date
  readonly startedAt: Date | null
  readonly finishedAt: Date | null
  /** When a finished job's images and record expire. */
  readonly expiresAt: Date | null
  /** A running job was asked to cancel and stops at its next step. */
  readonly cancelRequested?: boolean
}

export interface Asset {
  readonly id: string
  readonly jobId: string
  readonly ownerKeyId: string | null
  /** Storage key of the image bytes. */
  readonly key: string
  readonly index: number
  readonly model: string
  readonly seed: number
  readonly width: number
  readonly height: number
  readonly format: 'png' | 'jpeg' | 'webp'
  readonly bytes: number
  readonly sha256: string
  /** The generation parameters, as written into the image's metadata. */
  readonly parameters: Readonly<Record<string, unknown>>
  readonly createdAt: Date
  readonly expiresAt: Date | null
}
