/**
 * Queue-mode requests that are not generations (`warmup`, `debug`, `cleanup`) run at once and never enter
 * Pigment's job queue, yet a RunPod client submitted them as jobs and will ask for their status. Their
 * results are kept here, in memory, for the retention period.
 * @module
 */
import { newId } from '../../core/ids.js'
import type { JobStatusBody, WorkerOutput } from './schema.js'

interface SideJob {
  readonly body: JobStatusBody
  readonly ownerKeyId: string | null
}

export class SideJobs {
  readonly #jobs = new Map<string, SideJob>()
  readonly #retentionMs: number

  constructor(retentionMs: number) {
    this.#retentionMs = retentionMs
  }

  /** Records a finished side job and returns its status body. */
  record(ownerKeyId: string | null, output: WorkerOutput, executionTime: number): JobStatusBody {
    const id = newId()
    const body: JobStatusBody = { id, status: 'COMPLETED', delayTime: 0, executionTime, output }
    this.#jobs.set(id, { body, ownerKeyId })
    setTimeout(() => this.#jobs.delete(id), this.#retentionMs).unref()
    return body
  }

  get(id: string): { readonly body: JobStatusBody; readonly ownerKeyId: string | null } | undefined {
    return this.#jobs.get(id)
  }
}
