/**
 * Wakes idle workers when a job may be waiting: on enqueue, on requeue, and when a retry's backoff ends.
 * A wake-up with nobody waiting is remembered, so a worker that checked the queue just before it
 * filled does not sleep through the job.
 * @module
 */

export class WorkSignal {
  readonly #waiters = new Set<() => void>()
  #pending = false
  #timer: NodeJS.Timeout | null = null
  #timerAt = Number.POSITIVE_INFINITY

  notify(): void {
    if (this.#waiters.size === 0) {
      this.#pending = true
      return
    }
    for (const wake of [...this.#waiters]) wake()
  }

  /** Notifies at `atMs` (epoch ms, by `now`'s clock); only the earliest pending time is kept. */
  notifyAt(atMs: number, nowMs: number): void {
    if (atMs <= nowMs) {
      this.notify()
      return
    }
    if (atMs >= this.#timerAt) return
    if (this.#timer !== null) clearTimeout(this.#timer)
    this.#timerAt = atMs
    this.#timer = setTimeout(() => {
      this.#timer = null
      this.#timerAt = Number.POSITIVE_INFINITY
      this.notify()
    }, atMs - nowMs)
    this.#timer.unref()
  }

  /** Resolves on the next notification, after `timeoutMs`, or when `signal` aborts. Never rejects. */
  wait(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (this.#pending || signal?.aborted === true) {
      this.#pending = false
      return Promise.resolve()
    }
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer)
        signal?.removeEventListener('abort', done)
        this.#waiters.delete(done)
        resolve()
      }
      const timer = setTimeout(done, timeoutMs)
      signal?.addEventListener('abort', done, { once: true })
      this.#waiters.add(done)
    })
  }

  /** Releases every waiter and cancels the backoff timer. */
  close(): void {
    if (this.#timer !== null) clearTimeout(this.#timer)
    this.#timer = null
    this.#timerAt = Number.POSITIVE_INFINITY
    for (const wake of [...this.#waiters]) wake()
  }
}
