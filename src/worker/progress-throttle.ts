/**
 * Forwards pipeline progress to the queue at most every `intervalMs`, one write at a time and in order.
 * The first step and the last step of each image always go through; in between, a step that arrives
 * while a write is in flight replaces any older one still waiting. An interval of 0 sends every step.
 * @module
 */
import type { PipelineProgress } from '../pipelines/pipeline.js'

export interface ProgressThrottleOptions {
  readonly intervalMs: number
  readonly clock: () => number
  readonly send: (progress: PipelineProgress) => Promise<void>
  /** A failed write (e.g. the lease was lost); later steps are still offered. */
  readonly onError: (error: unknown) => void
}

export interface ProgressThrottle {
  /** Called by the pipeline, synchronously, after each step. */
  push(progress: PipelineProgress): void
  /** Resolves once nothing is in flight or waiting (waiting steps are still sent). */
  settle(): Promise<void>
}

function mustSend(progress: PipelineProgress): boolean {
  return progress.step <= 1 || progress.step >= progress.steps
}

export function createProgressThrottle(options: ProgressThrottleOptions): ProgressThrottle {
  let lastAcceptedAt = Number.NEGATIVE_INFINITY
  // steps that must go out, in order, then at most one optional step (the newest)
  const required: PipelineProgress[] = []
  let optional: PipelineProgress | null = null
  let busy = false
  let chain: Promise<void> = Promise.resolve()

  const next = (): PipelineProgress | null => {
    const step = required.shift() ?? optional
    if (step === optional) optional = null
    return step
  }

  const drain = async (): Promise<void> => {
    busy = true
    for (let step = next(); step !== null; step = next()) {
      try {
        await options.send(step)
      } catch (error) {
        options.onError(error)
      }
    }
    busy = false
  }

  return {
    push(progress) {
      const now = options.clock()
      if (options.intervalMs === 0 || mustSend(progress)) {
        optional = null // older than this step, so no longer news
        required.push(progress)
      } else if (now - lastAcceptedAt >= options.intervalMs) {
        optional = progress
      } else {
        return
      }
      lastAcceptedAt = now
      if (!busy) chain = chain.then(drain)
    },
    settle() {
      return chain
    },
  }
}
