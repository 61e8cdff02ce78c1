/**
 * What each caller's txt2img requests are doing right now, for A1111's `progress`, `interrupt` and `skip`.
 * A1111 is a one-user server with one global state; Pigment keeps one per key (auth off: one for everyone),
 * so a key sees and stops only its own work. Held in this process's memory: in a fleet, a request's progress
 * is answered by the API process that runs it.
 * @module
 */
import type { Job } from '../../core/job.js'
import type { ProgressResponse, ProgressState } from './schema.js'

/** One txt2img request: `iterations` jobs, one after another. */
export interface Run {
  readonly owner: string
  readonly iterations: number
  readonly startedAt: number
  readonly timestamp: string
  /** The iteration (job) now running, from 0. */
  iteration: number
  jobId: string | null
  /** Base64 PNG of the latest preview (with `--preview-every`), as A1111's `current_image`. */
  preview: string | null
  /** `skip` ends the current iteration; `interrupt` ends the request. */
  skipped: boolean
  interrupted: boolean
}

export class A1111Activity {
  readonly #runs = new Map<string, Run[]>()

  begin(owner: string, iterations: number, timestamp: string, now = Date.now()): Run {
    const run: Run = {
      owner,
      iterations,
      startedAt: now,
      timestamp,
      iteration: 0,
      jobId: null,
      preview: null,
      skipped: false,
      interrupted: false,
    }
    this.#runs.set(owner, [...(this.#runs.get(owner) ?? []), run])
    return run
  }

  end(run: Run): void {
    const left = (this.#runs.get(run.owner) ?? []).filter((other) => other !== run)
    if (left.length === 0) this.#runs.delete(run.owner)
    else this.#runs.set(run.owner, left)
  }

  /** The caller's requests, oldest first (the first is the one A1111 would be running). */
  of(owner: string): readonly Run[] {
    return this.#runs.get(owner) ?? []
  }
}

const IDLE_STATE: ProgressState = {
  skipped: false,
  interrupted: false,
  stopping_generation: false,
  job: '',
  job_count: 0,
  job_timestamp: '0',
  job_no: 0,
  sampling_step: 0,
  sampling_steps: 0,
}

/**
 * A1111's `progressapi`: progress = 0.01 + job_no/job_count + step fraction/job_count (at most 1) and
 * eta_relative = elapsed/progress − elapsed; idle is progress 0 with job_count 0. A Pigment job makes its batch
 * one image after another, so the step fraction counts the images already done.
 */
export function toProgress(
  runs: readonly Run[],
  current: Job | null,
  options: { readonly now: number; readonly withImage: boolean },
): ProgressResponse {
  const run = runs[0]
  if (run === undefined) {
    return { progress: 0, eta_relative: 0, state: IDLE_STATE, current_image: null, textinfo: null }
  }
  const jobCount = runs.reduce((sum, each) => sum + each.iterations, 0)
  const p = current?.progress ?? null
  const within = p === null || p.steps === 0 ? 0 : (p.image + p.step / p.steps) / Math.max(1, p.images)
  let progress = 0.01 + run.iteration / jobCount + within / jobCount
  const elapsed = Math.max(0, (options.now - run.startedAt) / 1000)
  const etaRelative = elapsed / progress - elapsed
  progress = Math.min(progress, 1)
  return {
    progress,
    eta_relative: etaRelative,
    state: {
      skipped: run.skipped,
      interrupted: run.interrupted,
      stopping_generation: false,
      job: run.jobId === null ? '' : `Batch ${run.iteration + 1} out of ${run.iterations}`,
      job_count: jobCount,
      job_timestamp: run.timestamp,
      job_no: run.iteration,
      sampling_step: p?.step ?? 0,
      sampling_steps: p?.steps ?? current?.request.steps ?? 0,
    },
    current_image: options.withImage ? run.preview : null,
    textinfo: null,
  }
}
