/**
 * In-process job events. Each job's events carry the job's sequence number (kept in the database, so it
 * keeps rising across restarts); the bus delivers them in that order, drops any that arrive late, and keeps
 * the last few per job so an SSE client reconnecting with `Last-Event-ID` gets what it missed.
 * @module
 */
import type { JobEvent } from './job-queue.js'

export type JobEventListener = (event: JobEvent) => void

export interface JobEventBusOptions {
  /** Events kept per job for replay (default 64). */
  readonly eventsPerJob?: number
  /** Jobs whose events are kept; the least recently published are forgotten first (default 1000). */
  readonly jobs?: number
  /** A listener threw (default: a process warning; never the publisher's problem). */
  readonly onListenerError?: (error: unknown) => void
}

export class JobEventBus {
  readonly #listeners = new Map<string, Set<JobEventListener>>()
  // Map order is publication recency: a job is moved to the end each time it publishes.
  readonly #buffers = new Map<string, JobEvent[]>()
  readonly #lastSeq = new Map<string, number>()
  readonly #eventsPerJob: number
  readonly #jobs: number
  readonly #onListenerError: (error: unknown) => void

  constructor(options: JobEventBusOptions = {}) {
    this.#eventsPerJob = options.eventsPerJob ?? 64
    this.#jobs = options.jobs ?? 1000
    this.#onListenerError = options.onListenerError ?? warn
  }

  publish(event: JobEvent): void {
    const jobId = event.job.id
    if (event.seq <= (this.#lastSeq.get(jobId) ?? 0)) return // a slower writer's older news
    this.#lastSeq.set(jobId, event.seq)
    const buffer = this.#buffers.get(jobId) ?? []
    this.#buffers.delete(jobId)
    buffer.push(event)
    if (buffer.length > this.#eventsPerJob) buffer.shift()
    this.#buffers.set(jobId, buffer)
    this.#trim()
    for (const listener of [...(this.#listeners.get(jobId) ?? [])]) this.#deliver(listener, event)
  }

  /** Replays buffered events after `afterSeq` (none when undefined), then delivers live ones. */
  subscribe(jobId: string, listener: JobEventListener, afterSeq?: number): () => void {
    if (afterSeq !== undefined) {
      for (const event of this.#buffers.get(jobId) ?? [])
        if (event.seq > afterSeq) this.#deliver(listener, event)
    }
    let listeners = this.#listeners.get(jobId)
    if (listeners === undefined) {
      listeners = new Set()
      this.#listeners.set(jobId, listeners)
    }
    listeners.add(listener)
    return () => {
      listeners.delete(listener)
      if (listeners.size === 0 && this.#listeners.get(jobId) === listeners) this.#listeners.delete(jobId)
    }
  }

  /** Drops a job's buffer (after it expired). */
  forget(jobId: string): void {
    this.#buffers.delete(jobId)
    this.#lastSeq.delete(jobId)
  }

  #deliver(listener: JobEventListener, event: JobEvent): void {
    try {
      listener(event)
    } catch (error) {
      // one broken subscriber (a closed SSE socket) must not stop the others or the transition
      this.#onListenerError(error)
    }
  }

  #trim(): void {
    for (const jobId of this.#buffers.keys()) {
      if (this.#buffers.size <= this.#jobs) return
      if (!this.#listeners.has(jobId)) this.forget(jobId)
    }
  }
}

function warn(error: unknown): void {
  process.emitWarning(`job event listener failed: ${error instanceof Error ? error.message : String(error)}`)
}
